"""A webhook receiver for the delivery tests and the demo: it records every request, checks its
signature with the key it was given, and answers as scripted.

`with Receiver(key=b"...", answers=[503, 503]) as receiver:` listens on a free loopback port;
each request takes the next scripted answer (then 200). `hold=True` keeps each request waiting
(its answer unsent) until `release()`, for a test that kills a runner mid-delivery. The check
is the README's ten lines: HMAC-SHA256 over `"<timestamp>." + body`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runner import delivery


def verify(body: bytes, headers: dict[str, str], key: bytes, tolerance: float = 300) -> bool:
    """The receiver's side of the signature, as the README shows it."""
    timestamp = headers.get(delivery.HEADER_TIMESTAMP.lower(), "")
    sent = headers.get(delivery.HEADER_SIGNATURE.lower(), "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    mac = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + mac, sent)


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    verified: bool  # the signature checked out with the receiver's key
    answered: int
    at: float

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(
        self,
        key: bytes | None = None,
        answers: Iterable[int] = (),
        hold: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        self.key = key
        self.answers = list(answers)
        self.hold = hold
        self.released = threading.Event()
        self.arrived = threading.Event()
        self.received: list[Delivery] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    code = receiver.answers.pop(0) if receiver.answers else 200
                    verified = receiver.key is not None and verify(body, headers, receiver.key)
                    receiver.received.append(
                        Delivery(self.path, headers, body, verified, code, time.time())
                    )
                receiver.arrived.set()
                if receiver.hold:
                    receiver.released.wait(60)
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def release(self) -> None:
        self.released.set()

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
