"""A misbehaving HTTP proxy between the runner and an agent, for the delivery tests.

It forwards plain HTTP/1.1 (one request per connection, so it never has to frame a kept-alive
response) and misbehaves once, on the first request whose JSON-RPC method is in `methods`:

| fault                   | what the runner sees                                            |
|-------------------------|-----------------------------------------------------------------|
| forward-then-502        | the agent got and answered the request; the runner gets HTTP 502 |
| 502-without-forward     | HTTP 502; the agent never saw the request                        |
| drop-after-forward      | the agent answered; the connection is closed without a response  |
| timeout-after-forward   | the agent answered; the runner's connection gets nothing, ever   |
| cut-stream              | an event stream cut after its first event                        |
| redirect                | HTTP 307 to `redirect_to` (another origin); nothing forwarded    |

Every request is recorded (`requests`: method, JSON-RPC method, headers, whether faulted).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

Fault = Literal[
    "none",
    "forward-then-502",
    "502-without-forward",
    "drop-after-forward",
    "timeout-after-forward",
    "cut-stream",
    "redirect",
]
SEND_METHODS = frozenset({"message/send", "SendMessage"})
SUBSCRIBE_METHODS = frozenset({"tasks/resubscribe", "SubscribeToTask"})

_BAD_GATEWAY = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
    b"Connection: close\r\n\r\nbad gateway"
)


@dataclass
class ProxiedRequest:
    method: str
    path: str
    rpc_method: str | None
    headers: dict[str, str]
    faulted: bool


@dataclass
class FaultProxy:
    """`with FaultProxy(upstream, fault) as proxy:` then point the runner at `proxy.base_url`."""

    upstream: str
    fault: Fault = "none"
    methods: frozenset[str] = SEND_METHODS
    redirect_to: str = ""
    requests: list[ProxiedRequest] = field(default_factory=list)
    base_url: str = ""
    _faults_left: int = 1
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None

    def __enter__(self) -> FaultProxy:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0)
            )
            port = self._server.sockets[0].getsockname()[1]
            self.base_url = f"http://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    @property
    def faulted(self) -> list[ProxiedRequest]:
        return [r for r in self.requests if r.faulted]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._exchange(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        try:
            rpc_method = json.loads(body).get("method") if body else None
        except (ValueError, AttributeError):
            rpc_method = None
        fault: Fault = "none"
        if self._faults_left and rpc_method in self.methods:
            self._faults_left -= 1
            fault = self.fault
        self.requests.append(ProxiedRequest(method, path, rpc_method, headers, fault != "none"))
        if fault == "502-without-forward":
            writer.write(_BAD_GATEWAY)
            await writer.drain()
            return
        if fault == "redirect":
            location = f"{self.redirect_to.rstrip('/')}{path}"
            writer.write(
                f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
            return
        target = urlsplit(self.upstream)
        up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
        try:
            forwarded = [lines[0]] + [
                f"{name}: {value}"
                for name, value in headers.items()
                if name not in ("connection", "host")
            ]
            forwarded += [f"Host: {target.netloc}", "Connection: close", "", ""]
            up_writer.write("\r\n".join(forwarded).encode("latin-1") + body)
            await up_writer.drain()
            if fault in ("forward-then-502", "drop-after-forward", "timeout-after-forward"):
                await up_reader.read()  # the agent's whole answer, then thrown away
                if fault == "forward-then-502":
                    writer.write(_BAD_GATEWAY)
                    await writer.drain()
                elif fault == "drop-after-forward":
                    writer.transport.abort()
                else:
                    await reader.read()  # until the runner gives up and closes
                return
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
                if fault == "cut-stream" and b"data:" in chunk:
                    writer.transport.abort()  # the first event through, then the stream breaks
                    return
        finally:
            up_writer.close()
