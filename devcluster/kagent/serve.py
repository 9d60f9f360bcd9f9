"""kagent's own Python agent runtime (`KAgentApp` from kagent-langgraph) as a test peer.

Runs in kagent's environment (made by devcluster/build_peers.sh), never in the project's: it needs
a2a-sdk 0.3.x. `python serve.py --port P` serves, on 127.0.0.1:

- `/api/a2a/{namespace}/{name}/...`: kagent's proxy path. The first request for an agent builds
  its `KAgentApp` (as kagent's agent image does) and the path is handed to it with the prefix
  cut, the way kagent's controller forwards to the agent's own service root.
- `/api/tasks...`: what `KAgentTaskStore` calls on kagent's controller (save, get, delete, in
  the controller's `{"error", "data"}` envelope), kept in memory: the runtime stores its tasks
  there and reads them back for `tasks/get`.
- `/debug/log`: what the tests count (JSON): `received` (one entry each time an agent's graph
  starts: a delivery, with the user the runtime runs its session as), `requests` (every A2A
  request: method, user header, whether a bearer token came), `finished` (task id -> when the
  runtime stored its end).

Each agent's LangGraph graph makes no model call; its behaviour is the first dash-separated word
of its name (as in devcluster/agents.py): echo, slow-<ms>, fail (raises), input (interrupts for
approval), hang, big (a 1 MiB answer); `-nostream` in the name advertises no streaming.
The first line on stdout is "listening on 127.0.0.1:P".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import threading
import time
from typing import Any

import uvicorn
from a2a.types import AgentCapabilities, AgentCard, AgentSkill
from kagent.core import KAgentConfig
from kagent.langgraph import KAgentApp
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

TERMINAL = {"completed", "failed", "canceled", "rejected", "input-required", "auth-required"}


class Log:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.finished: dict[str, float] = {}


def behaviour(name: str) -> str:
    return name.split("-", 1)[0]


def slow_seconds(name: str) -> float:
    parts = name.split("-")
    return int(parts[1]) / 1000 if len(parts) > 1 and parts[1].isdigit() else 1.0


def build_graph(name: str, log: Log) -> Any:
    """A one-node LangGraph graph acting out the agent's behaviour (no model call)."""
    kind = behaviour(name)

    async def act(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        prompt = str(state["messages"][-1].content)
        with log.lock:
            log.received.append(
                {
                    "agent": name,
                    "context_id": (config.get("configurable") or {}).get("thread_id", ""),
                    # The user the runtime runs this session as: from the caller's X-User-Id
                    # (KAgentRequestContextBuilder), as kagent's span attribute names it.
                    "user": (config.get("metadata") or {}).get("kagent.user_id", ""),
                    "text": prompt,
                    "at": time.time(),
                }
            )
        answer = f"{kind} done"
        if kind == "echo":
            answer = f"echo: {prompt}"
        elif kind == "big":
            answer = "x" * (1 << 20)
        elif kind == "slow":
            await asyncio.sleep(slow_seconds(name))
        elif kind == "hang":
            await asyncio.Event().wait()
        elif kind == "fail":
            raise RuntimeError("agent failed: tool exploded")
        elif kind == "input":
            interrupt(
                {
                    "action_requests": [
                        {"name": "approve", "args": {}, "id": "call-1", "description": "need"}
                    ]
                }
            )
        return {"messages": [AIMessage(content=answer)]}

    graph = StateGraph(MessagesState)
    graph.add_node("act", act)
    graph.add_edge(START, "act")
    graph.add_edge("act", END)
    return graph.compile(checkpointer=InMemorySaver())


def agent_card(base: str, namespace: str, name: str) -> AgentCard:
    return AgentCard(
        name=name.replace("-", "_"),
        description=f"kagent-langgraph test agent behaving as {behaviour(name)!r}",
        url=f"{base}/api/a2a/{namespace}/{name}/",
        version="0.1.0",
        capabilities=AgentCapabilities(streaming="-nostream" not in name),
        default_input_modes=["text"],
        default_output_modes=["text"],
        skills=[AgentSkill(id="act", name="act", description="acts", tags=["test"])],
    )


class Server:
    """The outer ASGI app: kagent's proxy path, the controller's task API, the debug log."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.log = Log()
        self.agents: dict[str, ASGIApp] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.controller = Starlette(
            routes=[
                Route("/api/tasks", self.save_task, methods=["POST"]),
                Route("/api/tasks/{id}", self.get_task, methods=["GET"]),
                Route("/api/tasks/{id}", self.delete_task, methods=["DELETE"]),
                Route("/debug/log", self.debug_log, methods=["GET"]),
            ]
        )

    async def save_task(self, request: Request) -> Response:
        task = await request.json()
        self.tasks[task["id"]] = task
        if (task.get("status") or {}).get("state") in TERMINAL:
            with self.log.lock:
                self.log.finished.setdefault(task["id"], time.time())
        return JSONResponse({"error": False, "data": task})

    async def get_task(self, request: Request) -> Response:
        task = self.tasks.get(request.path_params["id"])
        if task is None:
            return JSONResponse({"error": True, "message": "not found"}, status_code=404)
        return JSONResponse({"error": False, "data": task})

    async def delete_task(self, request: Request) -> Response:
        self.tasks.pop(request.path_params["id"], None)
        return JSONResponse({"error": False})

    async def debug_log(self, request: Request) -> Response:
        with self.log.lock:
            body = {
                "received": self.log.received,
                "requests": self.log.requests,
                "finished": self.log.finished,
            }
        return JSONResponse(body)

    def agent(self, namespace: str, name: str) -> ASGIApp:
        key = f"{namespace}/{name}"
        if key not in self.agents:
            config = KAgentConfig(url=self.base, name=name, namespace=namespace)
            app = KAgentApp(
                graph=build_graph(name, self.log),
                agent_card=agent_card(self.base, namespace, name),
                config=config,
                tracing=False,
            )
            self.agents[key] = app.build()
        return self.agents[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        parts = path.split("/")
        if scope["type"] != "http" or not path.startswith("/api/a2a/") or len(parts) < 5:
            await self.controller(scope, receive, send)
            return
        namespace, name = parts[3], parts[4]
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            method = json.loads(body).get("method") if body else None
        except ValueError:
            method = None
        with self.log.lock:
            self.log.requests.append(
                {
                    "path": path,
                    "method": scope["method"],
                    "rpc": method,
                    "user": headers.get("x-user-id", ""),
                    "authorization": headers.get("authorization", ""),
                    "at": time.time(),
                }
            )
        inner = "/" + "/".join(parts[5:])
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        forwarded = {**scope, "path": inner, "raw_path": inner.encode(), "root_path": ""}
        await self.agent(namespace, name)(forwarded, replay, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    server = Server(f"http://127.0.0.1:{port}")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the task store's calls, each logged
    print(f"listening on 127.0.0.1:{port}", flush=True)
    uvicorn.run(server, log_level="warning", lifespan="off", fd=sock.fileno())


if __name__ == "__main__":
    main()
