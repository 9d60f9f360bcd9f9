"""An A2A agent server that misbehaves on purpose, for the runner's hostile-input tests (issue 16).

Not an SDK server: each agent answers the way a broken or hostile peer would, byte by byte, which
no well-behaved library can be made to do. Agents live at `/api/a2a/{namespace}/{name}/` like
kagent's, and the name says the misbehaviour (protocol 0.3 unless the name ends in -v1;
JSON-RPC over HTTP/1.1):

| name         | what it does                                                              |
|--------------|---------------------------------------------------------------------------|
| huge-body    | answers the send with a 500 MB JSON body                                  |
| huge-line    | accepts the task, then streams one 500 MB event-stream line               |
| huge-id      | answers the send with a task whose id is 10 MB                            |
| trickle-card | sends its agent card a byte every 0.2 s, forever                          |
| trickle-send | answers the send a byte every 0.2 s, forever                              |
| deep-json    | answers the send with JSON nested 100k deep                               |
| long-id      | answers the send with a task whose id is 300 characters                   |
| other-task   | accepts task t-1, then says task t-2 completed                            |
| not-json     | answers the send with HTTP 200 and a body that is not JSON (nor UTF-8)    |
| not-json-v1  | the same in protocol 1.0, whose ListTasks then finds no task of the run   |

Bodies are generated as they are written, so the server itself stays small; a client that hangs
up ends the answer. `sends(name)` counts the sends each agent received.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HUGE = 500 * 1024 * 1024
CHUNK = 64 * 1024
TRICKLE_EVERY = 0.2


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HostileAgentServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _name(self) -> str:
        parts = [p for p in self.path.split("/") if p]
        return parts[3] if len(parts) > 3 else ""

    def _head(self, status: int, content_type: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _json(self, body: object) -> None:
        data = json.dumps(body).encode()
        self._head(200, "application/json", len(data))
        with contextlib.suppress(OSError):  # the client may hang up mid-answer
            self.wfile.write(data)

    def _stream(self, head: bytes, filler: bytes, total: int, content_type: str) -> None:
        self._head(200, content_type, None)
        try:
            self.wfile.write(head)
            sent = 0
            block = filler * (CHUNK // len(filler))
            while sent < total:
                self.wfile.write(block)
                sent += len(block)
        except OSError:
            return  # the client hung up: what it should do

    def _trickle(self, data: bytes) -> None:
        self._head(200, "application/json", None)
        try:
            while True:
                for byte in data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(TRICKLE_EVERY)
        except OSError:
            return

    def do_GET(self) -> None:
        name = self._name()
        card = {
            "name": name,
            "url": f"http://127.0.0.1:{self.server.server_port}{self.path}",
            "protocolVersion": "1.0" if name.endswith("-v1") else "0.3.0",
            "capabilities": {"streaming": name == "huge-line"},
        }
        if name == "trickle-card":
            self._trickle(json.dumps(card).encode())
        else:
            self._json(card)

    def do_POST(self) -> None:
        name = self._name()
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        method, rpc_id = request.get("method"), request.get("id")
        if method in ("message/send", "SendMessage"):
            self.server.count(name)

        def task(task_id: str, state: str) -> dict[str, Any]:
            return {"jsonrpc": "2.0", "id": rpc_id, "result": {
                "kind": "task", "id": task_id, "contextId": "c-1",
                "status": {"state": state}}}  # fmt: skip

        if method == "SendMessage" and name == "not-json-v1":
            data = b"\xff\xfe\xfd not json at all"
            self._head(200, "application/json", len(data))
            self.wfile.write(data)
        elif method == "ListTasks":
            self._json({"jsonrpc": "2.0", "id": rpc_id, "result": {"tasks": []}})
        elif method == "message/send":
            if name == "huge-body":
                head = b'{"jsonrpc":"2.0","id":1,"result":{"kind":"task","id":"t-1","x":"'
                self._stream(head, b"x", HUGE, "application/json")
            elif name == "huge-id":
                self._json(task("t" * (10 * 1024 * 1024), "working"))
            elif name == "trickle-send":
                self._trickle(json.dumps(task("t-1", "completed")).encode())
            elif name == "deep-json":
                data = b"[" * 100_000 + b"]" * 100_000
                self._head(200, "application/json", len(data))
                self.wfile.write(data)
            elif name == "long-id":
                self._json(task("t" * 300, "working"))
            elif name == "not-json":
                data = b"\xff\xfe\xfd not json at all"
                self._head(200, "application/json", len(data))
                self.wfile.write(data)
            else:
                self._json(task("t-1", "working"))
        elif method == "tasks/resubscribe" and name == "huge-line":
            self._stream(b"data: ", b"x", HUGE, "text/event-stream")
        elif method == "tasks/get":
            self._json(task("t-2", "completed") if name == "other-task" else task("t-1", "working"))
        elif method == "tasks/cancel":
            self._json(task("t-1", "canceled"))
        else:
            self._json({"jsonrpc": "2.0", "id": rpc_id, "error": {"code": -32601,
                        "message": "method not found"}})  # fmt: skip


class HostileAgentServer(ThreadingHTTPServer):
    """`start()` serves on a free loopback port in a thread; `stop()` ends it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._sends: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def count(self, name: str) -> None:
        with self._lock:
            self._sends[name] += 1

    def sends(self, name: str) -> int:
        with self._lock:
            return self._sends[name]

    def start(self) -> HostileAgentServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
