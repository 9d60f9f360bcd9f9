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
| deep-json    | answers the send with JSON nested 40k deep                                |
| long-id      | answers the send with a task whose id is 300 characters                   |
| other-task   | accepts task t-1, then says task t-2 completed                            |
| not-json     | answers the send with HTTP 200 and a body that is not JSON (nor UTF-8)    |
| not-json-v1  | the same in protocol 1.0, whose ListTasks then finds no task of the run   |
| gzip-send    | answers the send gzip-encoded (unasked): 1.5 MB that decode to 1.5 GB     |
| gzip-card    | the same for its agent card                                               |
| sse-send     | answers the send labelled `text/event-stream`: endless short data lines   |
| sse-card     | the same for its agent card                                               |
| values-send  | answers the send with 4 MiB of `[{},{},...]` (1.4 million objects)        |
| values-card  | an agent card of 4 MiB of `[{},{},...]`                                   |
| long-event   | accepts the task, then streams data lines forever, none ending the event  |
| heavy        | answers at every bound: 4 MiB of ASCII (as much decoded) of just under    |
|              | 50,000 JSON values; the task completes                                    |
| separators   | accepts the task, streams events whose JSON strings carry every Unicode   |
|              | line separator raw (CRLF line ends, one event over two data lines), then  |
|              | completes with an answer that carries them too                            |

Bodies are generated as they are written, so the server itself stays small; a client that hangs
up ends the answer. `sends(name)` counts the sends each agent received.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runner.a2a import ANSWER_MAX_BYTES, JSON_MAX_VALUES

HUGE = 500 * 1024 * 1024
GZIP_DECODED = 1536 * 1024 * 1024  # what the gzip answers decode to
VALUES = ANSWER_MAX_BYTES  # the size of the `[{},{},...]` and heavy answers: the runner's cap
CHUNK = 64 * 1024
TRICKLE_EVERY = 0.2
# Every character Python's str.splitlines ends a line at, besides CR and LF. JSON carries U+0085,
# U+2028 and U+2029 raw inside strings (the others escaped); an event stream ends lines only at
# CR, LF and CRLF.
SEPARATORS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
SEPARATED_ANSWER = "answer" + "".join(f"{c}part" for c in SEPARATORS)


def _values(head: bytes, tail: bytes) -> bytes:
    """`head` + `[{},{},...]` + `tail`, VALUES bytes in all."""
    count = (VALUES - len(head) - len(tail) - 4) // 3
    return head + b"[" + b"{}," * count + b"{}]" + tail


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

    def _gzip(self, head: bytes, filler: bytes, total: int) -> None:
        """`head` then `filler` up to `total` bytes, gzip-encoded though nobody asked."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Connection", "close")
        self.end_headers()
        encoder = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip format
        try:
            self.wfile.write(encoder.compress(head))
            block = filler * (CHUNK // len(filler))
            for _ in range(total // len(block)):
                if out := encoder.compress(block):
                    self.wfile.write(out)
            self.wfile.write(encoder.flush())
        except OSError:
            return

    def _events(self, events: list[bytes]) -> None:
        """An event stream of these events (CRLF line ends), then the end of the stream."""
        self._head(200, "text/event-stream", None)
        with contextlib.suppress(OSError):
            for event in events:
                self.wfile.write(event + b"\r\n\r\n")
                self.wfile.flush()

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
            "capabilities": {"streaming": name in ("huge-line", "long-event", "separators")},
        }
        if name == "trickle-card":
            self._trickle(json.dumps(card).encode())
        elif name == "gzip-card":
            self._gzip(json.dumps(card).encode()[:-1] + b',"x":"', b"x", GZIP_DECODED)
        elif name == "sse-card":
            self._stream(b"", b"data: x\n", HUGE, "text/event-stream")
        elif name == "values-card":
            data = _values(json.dumps(card).encode()[:-1] + b',"x":', b"}")
            self._head(200, "application/json", len(data))
            self.wfile.write(data)
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
                data = b"[" * 40_000 + b"]" * 40_000
                self._head(200, "application/json", len(data))
                self.wfile.write(data)
            elif name == "long-id":
                self._json(task("t" * 300, "working"))
            elif name == "not-json":
                data = b"\xff\xfe\xfd not json at all"
                self._head(200, "application/json", len(data))
                self.wfile.write(data)
            elif name == "gzip-send":
                head = b'{"jsonrpc":"2.0","id":1,"result":{"kind":"task","id":"t-1","x":"'
                self._gzip(head, b"x", GZIP_DECODED)
            elif name == "sse-send":
                self._stream(b"", b"data: x\n", HUGE, "text/event-stream")
            elif name == "heavy":
                data = _heavy(rpc_id, "working")
                self._head(200, "application/json", len(data))
                self.wfile.write(data)
            elif name == "values-send":
                data = _values(f'{{"jsonrpc":"2.0","id":{rpc_id},"result":'.encode(), b"}")
                self._head(200, "application/json", len(data))
                self.wfile.write(data)
            else:
                self._json(task("t-1", "working"))
        elif method == "tasks/resubscribe" and name == "huge-line":
            self._stream(b"data: ", b"x", HUGE, "text/event-stream")
        elif method == "tasks/resubscribe" and name == "long-event":
            self._stream(b"", b"data: x\n", HUGE, "text/event-stream")
        elif method == "tasks/resubscribe" and name == "separators":
            self.server.streamed(name)
            self._events(_separated_events(rpc_id))
        elif method == "tasks/get" and name == "heavy":
            data = _heavy(rpc_id, "completed")
            self._head(200, "application/json", len(data))
            self.wfile.write(data)
        elif method == "tasks/get" and name == "separators" and self.server.was_streamed(name):
            done = task("t-1", "completed")
            done["result"]["artifacts"] = [
                {"artifactId": "a-1", "parts": [{"kind": "text", "text": SEPARATED_ANSWER}]}
            ]
            self._json(done)
        elif method == "tasks/get":
            self._json(task("t-2", "completed") if name == "other-task" else task("t-1", "working"))
        elif method == "tasks/cancel":
            self._json(task("t-1", "canceled"))
        else:
            self._json({"jsonrpc": "2.0", "id": rpc_id, "error": {"code": -32601,
                        "message": "method not found"}})  # fmt: skip


def _heavy(rpc_id: object, state: str) -> bytes:
    """A task answer at every bound of the runner at once: ANSWER_MAX_BYTES of ASCII (as much
    once decoded: ANSWER_MAX_TEXT), of just under JSON_MAX_VALUES values, most of it one
    string."""
    head = json.dumps({"jsonrpc": "2.0", "id": rpc_id, "result": {
        "kind": "task", "id": "t-1", "contextId": "c-1", "status": {"state": state}}})  # fmt: skip
    values = b'"ab",' * (JSON_MAX_VALUES - 100)
    start, end = b'"ab"],"pad":"', b'"}}'
    pad = VALUES - len(head) - len(values) - len(start) - len(end) - len(b',"x":[') + 2
    return head.encode()[:-2] + b',"x":[' + values + start + b"a" * pad + end


def _separated_events(rpc_id: object) -> list[bytes]:
    """A working update whose text carries every separator raw, its JSON split over two `data:`
    lines, then the final completed update: as kagent's runtime writes them (CRLF, no escapes)."""

    def update(state: str, final: bool) -> bytes:
        message = {"kind": "message", "messageId": f"m-{state}", "role": "agent",
                   "parts": [{"kind": "text", "text": SEPARATED_ANSWER}]}  # fmt: skip
        result = {"kind": "status-update", "taskId": "t-1", "contextId": "c-1", "final": final,
                  "status": {"state": state, "message": message}}  # fmt: skip
        body = {"jsonrpc": "2.0", "id": rpc_id, "result": result}
        return json.dumps(body, ensure_ascii=False).encode()

    working = update("working", False)
    cut = working.index(b'"result"')
    return [
        b"data: " + working[:cut] + b"\r\ndata: " + working[cut:],
        b": a comment\r\ndata: " + update("completed", True),
    ]


class HostileAgentServer(ThreadingHTTPServer):
    """`start()` serves on a free loopback port in a thread; `stop()` ends it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._sends: Counter[str] = Counter()
        self._streamed: set[str] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def count(self, name: str) -> None:
        with self._lock:
            self._sends[name] += 1

    def streamed(self, name: str) -> None:
        with self._lock:
            self._streamed.add(name)

    def was_streamed(self, name: str) -> bool:
        with self._lock:
            return name in self._streamed

    def sends(self, name: str) -> int:
        with self._lock:
            return self._sends[name]

    def start(self) -> HostileAgentServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
