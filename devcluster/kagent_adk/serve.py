"""kagent's runtime for declarative Agents (`KAgentApp` from kagent-adk, Google ADK underneath) as
a test peer, with an OpenAI-compatible model of the test's own.

Runs in kagent-adk's environment (made by devcluster/build_peers.sh), never in the project's: it
needs a2a-sdk 0.3.x. `python serve.py --port P` serves, on 127.0.0.1:

- `/api/a2a/{namespace}/{name}/...`: kagent's proxy path. The first request for an agent builds
  its app as `kagent-adk static` does (an `AgentConfig` whose model is the `openai` type pointed
  at this server, and its agent card), in `local` mode: sessions and tasks in memory (a kagent
  Agent pod keeps them through kagent's controller; the A2A side is the same). The path is
  handed to it with the prefix cut, as kagent's controller forwards to the agent's service.
- `/v1/chat/completions`: the model, streaming or not. Its behaviour is the first dash-separated
  word of the agent's name (the `model` field): echo (answers "echo: <prompt>"), slow-<ms>
  (answers "slow done" after that long), hang (never answers), fail (HTTP 500, not to be retried:
  the task fails with the model's error), input (calls kagent's built-in `ask_user` tool: the
  task stops in input-required), big (a 1 MiB answer), lines (after a second, an answer that
  carries every Unicode line separator, which kagent-adk's event stream carries raw in its JSON).
  `-nostream` in the name advertises no A2A streaming on the card.
- `/debug/log`: what the tests count (JSON): `received` (one entry per message an agent
  accepted: a delivery), `requests` (every A2A request: method, user header, bearer token or
  not), `finished` (empty: local mode keeps no task store the test can watch).

The first line on stdout is "listening on 127.0.0.1:P".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from a2a.types import AgentCapabilities, AgentCard, AgentSkill
from kagent.adk import AgentConfig, KAgentApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

# Every character str.splitlines ends a line at besides CR and LF; the A2A JSON carries the ones
# past U+001F raw (the others escaped), as the runner must read them (issue 22).
SEPARATORS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
LINES_ANSWER = "lines" + "".join(f"{c}line" for c in SEPARATORS)
SEND_METHODS = {"message/send", "message/stream"}


class Log:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []


def behaviour(model: str) -> str:
    return model.split("-", 1)[0]


def slow_seconds(model: str) -> float:
    parts = model.split("-")
    return int(parts[1]) / 1000 if len(parts) > 1 and parts[1].isdigit() else 1.0


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def completion(model: str, text: str | None, tool_call: dict[str, Any] | None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_call is not None:
        message["tool_calls"] = [tool_call]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_call else "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def chunks(model: str, text: str | None, tool_call: dict[str, Any] | None) -> list[bytes]:
    """The same answer as a stream of chat.completion.chunk events (the text in two pieces)."""

    def chunk(delta: dict[str, Any], finish: str | None, usage: bool = False) -> bytes:
        body: dict[str, Any] = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage:
            body["choices"] = []
            body["usage"] = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    events = [chunk({"role": "assistant", "content": ""}, None)]
    if text:
        half = len(text) // 2
        events += [chunk({"content": text[:half]}, None), chunk({"content": text[half:]}, None)]
    if tool_call is not None:
        events.append(chunk({"tool_calls": [{"index": 0, **tool_call}]}, None))
    events.append(chunk({}, "tool_calls" if tool_call else "stop"))
    events.append(chunk({}, None, usage=True))
    return [*events, b"data: [DONE]\n\n"]


async def chat_completions(request: Request) -> Response:
    """An OpenAI-compatible model acting out the agent's behaviour."""
    body = await request.json()
    model = str(body.get("model", ""))
    kind = behaviour(model)
    messages = body.get("messages") or []
    answered_tool = bool(messages) and messages[-1].get("role") == "tool"
    text: str | None = f"{kind} done"
    tool_call: dict[str, Any] | None = None
    if kind == "fail":
        error = {"error": {"message": "model exploded", "type": "server_error", "code": None}}
        return JSONResponse(error, status_code=500, headers={"x-should-retry": "false"})
    if kind == "hang":
        await asyncio.Event().wait()  # until the client gives up
    if kind in ("slow", "lines"):  # lines: late enough that the runner is subscribed by then
        await asyncio.sleep(slow_seconds(model))
    if kind == "echo":
        text = f"echo: {last_user_text(messages)}"
    elif kind == "big":
        text = "x" * (1 << 20)
    elif kind == "lines":
        text = LINES_ANSWER
    elif kind == "input" and not answered_tool:
        text = None
        arguments = {"questions": [{"question": "need approval from a person"}]}
        tool_call = {
            "id": "call-1",
            "type": "function",
            "function": {"name": "ask_user", "arguments": json.dumps(arguments)},
        }
    if not body.get("stream"):
        return JSONResponse(completion(model, text, tool_call))

    async def stream() -> AsyncIterator[bytes]:
        for event in chunks(model, text, tool_call):
            yield event

    return StreamingResponse(stream(), media_type="text/event-stream")


def agent_card(base: str, namespace: str, name: str) -> AgentCard:
    return AgentCard(
        name=name.replace("-", "_"),
        description=f"kagent-adk test agent behaving as {behaviour(name)!r}",
        url=f"{base}/api/a2a/{namespace}/{name}/",
        version="0.1.0",
        capabilities=AgentCapabilities(streaming="-nostream" not in name),
        default_input_modes=["text"],
        default_output_modes=["text"],
        skills=[AgentSkill(id="act", name="act", description="acts", tags=["test"])],
    )


class Server:
    """The outer ASGI app: kagent's proxy path, the model, the debug log."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.log = Log()
        self.agents: dict[str, ASGIApp] = {}
        self.routes = Starlette(
            routes=[
                Route("/v1/chat/completions", chat_completions, methods=["POST"]),
                Route("/debug/log", self.debug_log, methods=["GET"]),
            ]
        )

    async def debug_log(self, request: Request) -> Response:
        with self.log.lock:
            body = {"received": self.log.received, "requests": self.log.requests, "finished": {}}
        return JSONResponse(body)

    def agent(self, namespace: str, name: str) -> ASGIApp:
        key = f"{namespace}/{name}"
        if key not in self.agents:
            config = AgentConfig.model_validate(
                {
                    "model": {"type": "openai", "model": name, "base_url": f"{self.base}/v1"},
                    "description": f"test agent {name}",
                    "instruction": "Do what the user asks.",
                    "stream": True,  # the model's answer in chunks: working updates with text
                }
            )
            app_name = name.replace("-", "_")
            kagent_app = KAgentApp(
                lambda: config.to_agent(app_name),
                agent_card(self.base, namespace, name),
                self.base,
                app_name,
                stream=True,
                agent_config=config,
            )
            self.agents[key] = kagent_app.build(local=True)
        return self.agents[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        parts = path.split("/")
        if scope["type"] != "http" or not path.startswith("/api/a2a/") or len(parts) < 5:
            await self.routes(scope, receive, send)
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
            rpc = json.loads(body) if body else {}
        except ValueError:
            rpc = {}
        method = rpc.get("method") if isinstance(rpc, dict) else None
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
            if method in SEND_METHODS:
                sent = (rpc.get("params") or {}).get("message") or {}
                texts = [p.get("text", "") for p in sent.get("parts") or [] if "text" in p]
                self.log.received.append(
                    {
                        "agent": name,
                        "context_id": sent.get("contextId", ""),
                        "text": "\n".join(texts),
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
    os.environ.setdefault("OPENAI_API_KEY", "test-key-for-the-loopback-model")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    server = Server(f"http://127.0.0.1:{port}")
    for noisy in ("httpx", "google_adk", "google.adk", "kagent"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    uvicorn.run(server, log_level="warning", lifespan="off", fd=sock.fileno())


if __name__ == "__main__":
    main()
