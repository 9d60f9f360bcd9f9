"""An httpx transport over the standard library's http.client, for a faster runner start.

httpx's default transport loads httpcore and h11 the first time a client is made: about a tenth
of the runner's start-up, paid on every tick, for a process that makes a handful of plain
HTTP/1.1 requests to two hosts. http.client is already loaded (httpx imports it), so this
transport costs nothing to import. The runner still speaks httpx everywhere (requests,
responses, timeouts, errors); only the wire layer differs.

Kept deliberately small: HTTP/1.1, one kept-alive connection per origin, no proxies, streamed
response bodies (the A2A event streams), httpx's own exception classes.

Against a peer that misbehaves (issues 16 and 22), bounds that hold whatever it sends:
- `body_limit`: a response body beyond it ends the exchange with `ResponseTooLarge`. It counts
  the bytes as they will be read, so a bounded transport asks for `Accept-Encoding: identity`
  and refuses any other `Content-Encoding` with `EncodingRefused` (a gzip body of 1.5 MB
  decodes to 1.5 GB). The one body it does not bound is an event stream the request asked for
  (request extension `event_stream`) and got (`text/event-stream`): its reader bounds each
  event (runner/sse.py) and the deadline bounds its time. A body labelled an event stream where
  the request did not ask for one is bounded like any other.
- A request extension `deadline` (a `time.monotonic()` instant) bounds the whole exchange,
  headers and body, however slowly the bytes trickle in: at the deadline a timer shuts the
  socket and the exchange ends with `httpx.ReadTimeout` (per-read timeouts alone reset with
  every byte).
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
import time
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


class Refused(httpx.ReadError):
    """The peer sent what the transport's bounds refuse; str() says what."""


class ResponseTooLarge(Refused):
    """A response body beyond the transport's limit."""


class EncodingRefused(Refused):
    """A `Content-Encoding` other than identity, which a bounded transport never asks for."""


class _Deadline:
    """Shuts the connection's socket at `when` (monotonic), so a trickling peer cannot hold an
    exchange past it; `expired` says it did."""

    def __init__(self, when: float | None) -> None:
        self.when = when
        self.expired = False
        self._timer: threading.Timer | None = None

    def arm(self, sock: socket.socket | None) -> None:
        """Start the clock on the connected socket (http.client drops its own reference to it
        once a response says `Connection: close`, so the timer keeps one)."""
        if self.when is not None and sock is not None:
            wait = max(0.0, self.when - time.monotonic())
            self._timer = threading.Timer(wait, self._cut, [sock])
            self._timer.daemon = True
            self._timer.start()

    def _cut(self, sock: socket.socket) -> None:
        self.expired = True
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class _StaleConnection(Exception):
    """A kept-alive connection was found closed by the server while the request went out."""


class _Body(httpx.SyncByteStream):
    """A response body read as it arrives; closing early drops the connection."""

    def __init__(
        self,
        transport: StdlibTransport,
        key: tuple[str, str, int],
        response: http.client.HTTPResponse,
        deadline: _Deadline,
        body_limit: int | None,
    ) -> None:
        self._transport = transport
        self._key = key
        self._response = response
        self._deadline = deadline
        self._done = False
        self._body_limit = body_limit

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        try:
            while chunk := self._response.read1(_CHUNK):
                total += len(chunk)
                if self._body_limit is not None and total > self._body_limit:
                    raise ResponseTooLarge(f"response body larger than {self._body_limit} bytes")
                yield chunk
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except (OSError, http.client.HTTPException) as exc:
            if self._deadline.expired:
                raise httpx.ReadTimeout("the request's deadline passed") from exc
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        if self._deadline.expired:  # the socket was shut under a trickle: the body is cut
            raise httpx.ReadTimeout("the request's deadline passed")
        self._done = True

    def close(self) -> None:
        self._deadline.cancel()
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
        self,
        ssl_context: ssl.SSLContext | None = None,
        repeat_on_stale: bool = False,
        body_limit: int | None = None,
    ) -> None:
        self._ssl_context = ssl_context
        self._repeat_on_stale = repeat_on_stale
        self.body_limit = body_limit
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
        when = request.extensions.get("deadline")
        if when is not None and when <= time.monotonic():
            raise httpx.ConnectTimeout("the request's deadline passed before it was sent")
        connection = self._connection(key, timeouts.get("connect"))
        reused = connection.sock is not None
        sent_anything = False  # past this point a failure may leave the request delivered
        deadline = _Deadline(when)
        try:
            if not reused:
                connection.connect()
            assert connection.sock is not None
            deadline.arm(connection.sock)
            connection.sock.settimeout(timeouts.get("read"))
            sent_anything = True
            connection.putrequest(
                request.method,
                request.url.raw_path.decode("ascii"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            bounded = self.body_limit is not None
            for name, value in request.headers.multi_items():
                if not (bounded and name.lower() == "accept-encoding"):
                    connection.putheader(name, value)
            if bounded:
                connection.putheader("Accept-Encoding", "identity")
            connection.endheaders(body or None)
            response = connection.getresponse()
        except TimeoutError as exc:
            deadline.cancel()
            self.drop(key)
            kind: type[httpx.TransportError] = (
                httpx.ReadTimeout if sent_anything else httpx.ConnectTimeout
            )
            raise kind(str(exc) or "timed out", request=request) from exc
        except (OSError, http.client.HTTPException) as exc:
            deadline.cancel()
            self.drop(key)
            if deadline.expired:
                raise httpx.ReadTimeout("the request's deadline passed", request=request) from exc
            closed_under_us = isinstance(
                exc, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError
            )
            if reused and closed_under_us:
                raise _StaleConnection() from exc
            kind = httpx.ReadError if sent_anything else httpx.ConnectError
            raise kind(str(exc) or type(exc).__name__, request=request) from exc
        except BaseException:
            # Interrupted (the runner's SIGTERM handler raises): the connection is mid-exchange.
            deadline.cancel()
            self.drop(key)
            raise
        if self.body_limit is not None:
            encoding = (response.getheader("content-encoding") or "identity").strip()
            if encoding.lower() != "identity":
                deadline.cancel()
                response.close()
                self.drop(key)
                raise EncodingRefused(
                    f"Content-Encoding {encoding[:40]!r}, which was not asked for (the request"
                    " asked for identity)",
                    request=request,
                )
        streamed = request.extensions.get("event_stream") is True and (
            "text/event-stream" in (response.getheader("content-type") or "")
        )
        return httpx.Response(
            response.status,
            headers=response.getheaders(),
            stream=_Body(self, key, response, deadline, None if streamed else self.body_limit),
            extensions={"http_version": b"HTTP/1.1"},
        )

    def close(self) -> None:
        for key in list(self._connections):
            self.drop(key)
