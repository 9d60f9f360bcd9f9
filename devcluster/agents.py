"""A real A2A agent server for tests and the demo: the official a2a-sdk, served at kagent's paths.

Every agent lives at `/api/a2a/{namespace}/{name}/` (Agent) and
`/api/a2a-sandboxes/{namespace}/{name}/` (SandboxAgent), with its card at
`.well-known/agent-card.json` under that path. One JSON-RPC endpoint speaks protocol 1.0 and,
through the SDK's own compatibility layer, 0.3 (a request without `A2A-Version: 1.0` is 0.3).

The agent's behaviour is chosen by the first dash-separated word of its name:

| prefix   | behaviour |
|----------|-----------|
| echo     | task that completes with "echo: <prompt>" |
| slow     | task that works `slow-<ms>` milliseconds (default 1000) then completes |
| fail     | task that fails with "agent failed: tool exploded" |
| reject   | task that is rejected with "agent rejected: not allowed" |
| hang     | task that works until it is cancelled |
| gate     | task that works until the test calls `release(name)`, then completes |
| input    | task that stops in input-required ("need approval from a person") |
| auth     | task that stops in auth-required ("needs a login") |
| message  | a plain message reply, no task ("hello from a message") |
| big      | task that completes with a 1 MiB answer |
| http500  | HTTP 500 for every request (a plain route: the SDK would not do this) |
| badjson  | HTTP 200 with an HTML body |
| rpcerror | HTTP 200 with JSON-RPC error -32603 "agent backend unavailable" |
| silent   | serves its card, but never answers a JSON-RPC request |
| pinger   | answers every request with an event stream of keep-alive comments only, forever |

A name containing `-nostream` advertises `capabilities.streaming: false`; `-v03` advertises only
a 0.3 interface on its card (the endpoint still answers both). Every message an agent receives is
recorded in `AgentServer.received`, every HTTP request in `AgentServer.requests`, and the
instant each task reached a terminal state in `AgentServer.finished`: the tests assert
"at most once" and the benchmark measures latency from these.

Use `with AgentServer() as server:` (uvicorn in a background thread on a free loopback port) or
`python -m devcluster.agents --port P`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import click
import uvicorn
from a2a.helpers.proto_helpers import new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    Role,
)
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from runner import api

# The SDK logs every JSON-RPC error it answers (a runner subscribing to a finished task gets one
# by design); the tests assert on outcomes, so keep their output to real problems.
logging.getLogger("a2a").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Received:
    """One message an agent received."""

    path: str
    agent: str
    message_id: str
    context_id: str
    text: str
    at: float
    parts: tuple[str, ...] = ()  # each text part as it arrived
    part_metadata: tuple[dict[str, object], ...] = ()  # each part's metadata


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request the server answered (to count requests while a runner waits)."""

    path: str
    method: str
    at: float
    traceparent: str | None = None  # the W3C trace context the caller sent, if any


def behaviour_of(name: str) -> str:
    """The behaviour word of an agent name: `slow-200-nostream` -> `slow`."""
    return name.split("-", 1)[0]


def _slow_millis(name: str) -> int:
    parts = name.split("-")
    if len(parts) > 1 and parts[1].isdigit():
        return int(parts[1])
    return 1000


def _text(updater: TaskUpdater, text: str) -> Message:
    return updater.new_agent_message([new_text_part(text)])


@dataclass
class _Shared:
    """State the test thread and the server thread both see."""

    received: list[Received] = field(default_factory=list)
    requests: list[HttpRequest] = field(default_factory=list)
    finished: dict[str, float] = field(default_factory=dict)  # task id -> time it ended
    gates: dict[str, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def gate(self, name: str) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(name, threading.Event())


class BehaviourExecutor(AgentExecutor):
    """Acts out the behaviour its agent's name asks for."""

    def __init__(self, path: str, name: str, shared: _Shared) -> None:
        self.path = path
        self.name = name
        self.shared = shared

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        assert message is not None
        with self.shared.lock:
            self.shared.received.append(
                Received(
                    path=self.path,
                    agent=self.name,
                    message_id=message.message_id,
                    context_id=context.context_id or "",
                    text=context.get_user_input(),
                    at=time.time(),
                    parts=tuple(p.text for p in message.parts),
                    part_metadata=tuple(MessageToDict(p.metadata) for p in message.parts),
                )
            )
        kind = behaviour_of(self.name)
        if kind == "message":
            await event_queue.enqueue_event(
                Message(
                    role=Role.ROLE_AGENT,
                    message_id=f"reply-{message.message_id}",
                    context_id=context.context_id or "",
                    parts=[new_text_part("hello from a message")],
                )
            )
            return
        task = context.current_task or new_task_from_user_message(message)
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        ending = await self._act(kind, context, updater)
        if ending is not None:
            self._mark_finished(task.id)
            await ending()

    async def _act(
        self, kind: str, context: RequestContext, updater: TaskUpdater
    ) -> Callable[[], Awaitable[None]] | None:
        """Wait as the behaviour says; return the call that ends the task (None: it stays open)."""
        if kind == "slow":
            await asyncio.sleep(_slow_millis(self.name) / 1000)
        elif kind == "hang":
            await asyncio.Event().wait()  # until cancelled
        elif kind == "gate":
            gate = self.shared.gate(self.name)
            # A threading.Event, set from the test's thread: poll it rather than block the loop.
            while not gate.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        elif kind == "fail":
            return lambda: updater.failed(_text(updater, "agent failed: tool exploded"))
        elif kind == "reject":
            return lambda: updater.reject(_text(updater, "agent rejected: not allowed"))
        elif kind == "input":
            await updater.requires_input(_text(updater, "need approval from a person"))
            return None
        elif kind == "auth":
            await updater.requires_auth(_text(updater, "needs a login"))
            return None
        answer = f"echo: {context.get_user_input()}" if kind == "echo" else f"{kind} done"
        if kind == "big":
            answer = "x" * (1 << 20)
        return lambda: updater.complete(_text(updater, answer))

    def _mark_finished(self, task_id: str) -> None:
        with self.shared.lock:
            self.shared.finished[task_id] = time.time()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        updater = TaskUpdater(event_queue, task_id, context.context_id or "")
        self._mark_finished(task_id)
        await updater.cancel(_text(updater, "cancelled on request"))


def agent_card(base_url: str, path: str, name: str) -> AgentCard:
    """The card of one agent: 1.0 and 0.3 JSON-RPC interfaces (or only 0.3 with `-v03`)."""
    url = f"{base_url}{path}"
    interfaces = [AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="0.3")]
    if "-v03" not in name:
        interfaces.insert(
            0, AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")
        )
    return AgentCard(
        name=name,
        description=f"test agent that behaves as {behaviour_of(name)!r}",
        version="1.0.0",
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(streaming="-nostream" not in name),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="act", name="act", description="acts", tags=["test"])],
    )


class _RequestLog:
    """ASGI middleware recording each HTTP request (path, method, time)."""

    def __init__(self, app: ASGIApp, shared: _Shared) -> None:
        self.app = app
        self.shared = shared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            with self.shared.lock:
                headers = dict(scope.get("headers") or [])
                traceparent = headers.get(b"traceparent")
                self.shared.requests.append(
                    HttpRequest(
                        path=scope["path"],
                        method=scope["method"],
                        at=time.time(),
                        traceparent=traceparent.decode("latin-1") if traceparent else None,
                    )
                )
        await self.app(scope, receive, send)


def _broken_reply(kind: str) -> Response | None:
    if kind == "http500":
        return PlainTextResponse("upstream exploded", status_code=500)
    if kind == "badjson":
        return Response("<html><body>proxy login</body></html>", media_type="text/html")
    if kind == "rpcerror":
        return JSONResponse(
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32603, "message": "agent backend unavailable"},
            }
        )
    return None


async def _pings() -> AsyncIterator[bytes]:
    while True:
        yield b": ping\n\n"
        await asyncio.sleep(0.1)


def build_app(shared: _Shared, base_url: Callable[[], str]) -> ASGIApp:
    """The Starlette app: per-agent SDK handlers, created on first use."""
    dispatchers: dict[str, JsonRpcDispatcher] = {}

    def dispatcher_for(path: str, name: str) -> JsonRpcDispatcher:
        if path not in dispatchers:
            card = agent_card(base_url(), path, name)
            handler = DefaultRequestHandler(
                agent_executor=BehaviourExecutor(path, name, shared),
                task_store=InMemoryTaskStore(),
                agent_card=card,
            )
            dispatchers[path] = JsonRpcDispatcher(handler, enable_v0_3_compat=True)
        return dispatchers[path]

    def agent_path(request: Request) -> tuple[str, str]:
        segment = request.url.path.split("/")[2]
        ns, name = request.path_params["namespace"], request.path_params["name"]
        return f"/api/{segment}/{ns}/{name}/", name

    async def rpc(request: Request) -> Response:
        path, name = agent_path(request)
        if behaviour_of(name) == "silent":
            await asyncio.Event().wait()  # until the client gives up
        if behaviour_of(name) == "pinger":
            return StreamingResponse(_pings(), media_type="text/event-stream")
        broken = _broken_reply(behaviour_of(name))
        if broken is not None:
            return broken
        return await dispatcher_for(path, name).handle_requests(request)

    async def card(request: Request) -> Response:
        path, name = agent_path(request)
        if behaviour_of(name) == "http500":
            return PlainTextResponse("upstream exploded", status_code=500)
        return JSONResponse(agent_card_to_dict(agent_card(base_url(), path, name)))

    routes: list[Route] = []
    for segment in (target.a2a_segment for target in api.TARGET_KINDS.values()):
        prefix = f"/api/{segment}/{{namespace}}/{{name}}"
        routes += [
            Route(f"{prefix}/", rpc, methods=["POST"]),
            Route(prefix, rpc, methods=["POST"]),
            Route(f"{prefix}/.well-known/agent-card.json", card, methods=["GET"]),
        ]
    return _RequestLog(Starlette(routes=routes), shared)


class AgentServer:
    """The agent server on a loopback port, in a background thread."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._shared = _Shared()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{self.port}"
        app = build_app(self._shared, lambda: self.base_url)
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            timeout_keep_alive=30,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def url(self, namespace: str, name: str, kind: str = "Agent") -> str:
        """The A2A endpoint of one agent, as the runner addresses it."""
        return f"{self.base_url}/api/{api.TARGET_KINDS[kind].a2a_segment}/{namespace}/{name}/"

    def start(self) -> AgentServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("agent server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> AgentServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def release(self, name: str) -> None:
        """Let a `gate*` agent finish its task."""
        self._shared.gate(name).set()

    @property
    def received(self) -> list[Received]:
        with self._shared.lock:
            return list(self._shared.received)

    @property
    def requests(self) -> list[HttpRequest]:
        with self._shared.lock:
            return list(self._shared.requests)

    @property
    def finished(self) -> dict[str, float]:
        with self._shared.lock:
            return dict(self._shared.finished)

    def received_by(self, name: str) -> list[Received]:
        return [r for r in self.received if r.agent == name]


@contextlib.contextmanager
def running(port: int = 0) -> Iterator[AgentServer]:
    """An agent server for the duration of a `with` block."""
    server = AgentServer(port).start()
    try:
        yield server
    finally:
        server.stop()


@click.command()
@click.option("--port", type=int, default=8083, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def main(port: int, host: str) -> None:
    """Serve the test agents on HOST:PORT until interrupted."""
    server = AgentServer(port, host)
    click.echo(f"test agents at {server.base_url}/api/a2a/<namespace>/<name>/ (Ctrl-C stops)")
    server._server.run(sockets=[server._sock])


if __name__ == "__main__":
    main()
