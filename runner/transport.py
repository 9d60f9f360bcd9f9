"""An httpx transport over the standard library's http.client, for a faster runner start.

httpx's default transport loads httpcore and h11 the first time a client is made: about a tenth
of the runner's start-up, paid on every tick, for a process that makes a handful of plain
HTTP/1.1 requests to two hosts. http.client is already loaded (httpx imports it), so this
transport costs nothing to import. The runner still speaks httpx everywhere (requests,
responses, timeouts, errors); only the wire layer differs.

Kept deliberately small: HTTP/1.1, one kept-alive connection per origin, no proxies, streamed
response bodies (the A2A event streams), httpx's own exception classes.
"""

from __future__ import annotations

import http.client
import select
import ssl
from collections.abc import Iterator

import httpx

_CHUNK = 64 * 1024


def _stale(connection: http.client.HTTPConnection) -> bool:
    """A kept-alive connection the server has closed (readable at rest means EOF)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _StaleConnection(Exception):
    """A kept-alive connection was found closed by the server while the request went out."""


class _Body(httpx.SyncByteStream):
    """A response body read as it arrives; closing early drops the connection."""

    def __init__(
        self,
        transport: StdlibTransport,
        key: tuple[str, str, int],
        response: http.client.HTTPResponse,
    ) -> None:
        self._transport = transport
        self._key = key
        self._response = response
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            while chunk := self._response.read1(_CHUNK):
                yield chunk
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        self._done = True

    def close(self) -> None:
        reusable = self._done and not self._response.will_close
        self._response.close()
        if not reusable:
            self._transport.drop(self._key)


class StdlibTransport(httpx.BaseTransport):
    """HTTP/1.1 over http.client, one connection per origin, TLS with the given context.

    `repeat_on_stale`: when a kept-alive connection turns out closed by the server as the
    request goes out (the server's idle timer and our request crossed), send it once more on a
    fresh connection. Only for clients whose every request is safe to repeat (the Kubernetes
    client: reads, and patches guarded by resourceVersion); an A2A send is not.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext | None = None, repeat_on_stale: bool = False
    ) -> None:
        self._ssl_context = ssl_context
        self._repeat_on_stale = repeat_on_stale
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def drop(self, key: tuple[str, str, int]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def _connection(
        self, key: tuple[str, str, int], timeout: float | None
    ) -> http.client.HTTPConnection:
        connection = self._connections.get(key)
        if connection is not None and _stale(connection):
            self.drop(key)
            connection = None
        if connection is None:
            scheme, host, port = key
            if scheme == "https":
                context = self._ssl_context or ssl.create_default_context()
                connection = http.client.HTTPSConnection(
                    host, port, timeout=timeout, context=context
                )
            else:
                connection = http.client.HTTPConnection(host, port, timeout=timeout)
            self._connections[key] = connection
        return connection

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        body = request.read()
        try:
            return self._exchange(request, key, body)
        except _StaleConnection as stale:
            if not self._repeat_on_stale:
                raise httpx.ReadError(str(stale.__cause__), request=request) from stale.__cause__
            return self._exchange(request, key, body)

    def _exchange(
        self, request: httpx.Request, key: tuple[str, str, int], body: bytes
    ) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        connection = self._connection(key, timeouts.get("connect"))
        reused = connection.sock is not None
        sent_anything = False  # past this point a failure may leave the request delivered
        try:
            if not reused:
                connection.connect()
            assert connection.sock is not None
            connection.sock.settimeout(timeouts.get("read"))
            sent_anything = True
            connection.putrequest(
                request.method,
                request.url.raw_path.decode("ascii"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in request.headers.multi_items():
                connection.putheader(name, value)
            connection.endheaders(body or None)
            response = connection.getresponse()
        except TimeoutError as exc:
            self.drop(key)
            kind: type[httpx.TransportError] = (
                httpx.ReadTimeout if sent_anything else httpx.ConnectTimeout
            )
            raise kind(str(exc) or "timed out", request=request) from exc
        except (OSError, http.client.HTTPException) as exc:
            self.drop(key)
            closed_under_us = isinstance(
                exc, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError
            )
            if reused and closed_under_us:
                raise _StaleConnection() from exc
            kind = httpx.ReadError if sent_anything else httpx.ConnectError
            raise kind(str(exc) or type(exc).__name__, request=request) from exc
        except BaseException:
            # Interrupted (the runner's SIGTERM handler raises): the connection is mid-exchange.
            self.drop(key)
            raise
        return httpx.Response(
            response.status,
            headers=response.getheaders(),
            stream=_Body(self, key, response),
            extensions={"http_version": b"HTTP/1.1"},
        )

    def close(self) -> None:
        for key in list(self._connections):
            self.drop(key)
