"""A2A peers the project did not write, as processes on loopback, for tests and the benchmark.

- `KagentRuntime`: kagent's own Python agent runtime (`KAgentApp` from kagent-langgraph 0.10.4,
  protocol 0.3) in its own environment, served at kagent's proxy path (devcluster/kagent/serve.py).
- `KagentAdkRuntime`: kagent's runtime for declarative Agents (kagent-adk 0.10.4, Google ADK,
  protocol 0.3), in its own environment, with an OpenAI-compatible model of the test's own
  (devcluster/kagent_adk/serve.py).
- `A2AGoServer`: an a2a-go v2 server (the A2A library of kagent's controller, protocol 1.0)
  fronted like that controller: HTTP 400 without `A2A-Version: 1.0`, the user from `X-User-Id`,
  optionally a bearer token required (devcluster/go/a2ago).

Both are built once by devcluster/build_peers.sh (cached). Each answers `GET /debug/log` with
what it saw: `received` (one entry per delivery: each time an agent started on a message),
`requests` (every HTTP request, with the user and authorization headers that came), and
`finished` (task id -> when it ended), the same things `devcluster.agents.AgentServer` records.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Self

import httpx

HERE = Path(__file__).resolve().parent


@cache
def built_peers() -> dict[str, str]:
    """{"a2ago": binary, "kagent": python, "kagent_adk": python} from build_peers.sh (a no-op
    once cached)."""
    done = subprocess.run(
        ["bash", str(HERE / "build_peers.sh")], check=True, capture_output=True, text=True
    )
    lines = [line for line in done.stdout.splitlines() if "=" in line]
    return dict(line.split("=", 1) for line in lines[-3:])


@dataclass(frozen=True)
class Delivery:
    agent: str
    context_id: str
    text: str
    at: float
    user: str = ""  # the user the peer runs the session as (kagent's runtime records it)


class PeerProcess:
    """A peer server as a child process; it prints "listening on 127.0.0.1:<port>" when up."""

    kind = "peer"
    protocol = "1.0"

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.output: list[str] = []

    def start(self, timeout: float = 60.0) -> Self:
        self.process = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        while (line := self.process.stdout.readline()) and not line.startswith("listening on "):
            self.output.append(line)  # kagent's runtime logs its logging set-up first
        if not line:
            self.stop()
            raise RuntimeError(f"{self.kind} did not start: {self.drain()}")
        self.base_url = f"http://{line.split()[-1]}"
        threading.Thread(target=self._collect, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:  # ready once it answers
            try:
                httpx.get(f"{self.base_url}/debug/log", timeout=5).raise_for_status()
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _collect(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def drain(self) -> str:
        return "".join(self.output[-40:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def url(self, namespace: str, name: str) -> str:
        return f"{self.base_url}/api/a2a/{namespace}/{name}/"

    def log(self) -> dict[str, Any]:
        response = httpx.get(f"{self.base_url}/debug/log", timeout=10)
        response.raise_for_status()
        body = response.json()
        assert isinstance(body, dict)
        return body

    def received_by(self, name: str) -> list[Delivery]:
        return [
            Delivery(r["agent"], r["context_id"], r["text"], r["at"], r.get("user", ""))
            for r in self.log()["received"] or []
            if r["agent"] == name
        ]

    def requests_to(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.log()["requests"] or [] if f"/{name}/" in r["path"]]

    @property
    def finished(self) -> dict[str, float]:
        finished = self.log()["finished"] or {}
        assert isinstance(finished, dict)
        return finished


class KagentRuntime(PeerProcess):
    """kagent-langgraph's KAgentApp (A2A 0.3) at /api/a2a/{ns}/{name}/."""

    kind = "kagent-langgraph"
    protocol = "0.3"

    def __init__(self) -> None:
        super().__init__([built_peers()["kagent"], str(HERE / "kagent" / "serve.py")])


class KagentAdkRuntime(PeerProcess):
    """kagent-adk's KAgentApp (A2A 0.3) at /api/a2a/{ns}/{name}/, its model an OpenAI-compatible
    one served by the same process on loopback (devcluster/kagent_adk/serve.py)."""

    kind = "kagent-adk"
    protocol = "0.3"

    def __init__(self) -> None:
        super().__init__([built_peers()["kagent_adk"], str(HERE / "kagent_adk" / "serve.py")])


class A2AGoServer(PeerProcess):
    """a2a-go v2 (A2A 1.0) fronted like kagent's controller, at /api/a2a/{ns}/{name}/."""

    kind = "a2a-go-v2"
    protocol = "1.0"

    def __init__(self, token: str = "") -> None:
        command = [built_peers()["a2ago"]]
        if token:
            command += ["-token", token]
        super().__init__(command)
