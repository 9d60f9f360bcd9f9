"""runner.transport: the http.client transport's connection handling.

What httpx's pool would do for us and this small transport must do itself: reuse a kept-alive
connection, notice one the server closed while idle, drop one whose body was left unread, and
turn socket failures into httpx's exceptions. Request/response shapes are covered by the A2A
tests, which run over this transport too.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from devcluster.hostile_agent import HostileAgentServer
from runner.transport import EncodingRefused, ResponseTooLarge, StdlibTransport


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    close_after_reply = False  # like a server whose keep-alive timer ran out

    def do_GET(self) -> None:
        # One handler per connection: count it once, before answering (counted after the
        # answer, the client could hold it and the test count before this thread got there).
        if not getattr(self, "counted", False):
            self.counted = True
            self.server.connections.append(self.client_address)  # type: ignore[attr-defined]
        body = b"x" * (200_000 if self.path == "/big" else 2)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.close_after_reply:
            self.close_connection = True

    def log_message(self, *_: object) -> None:
        return None


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, *_: object) -> None:
        """A client dropping a connection mid-body is what one test does on purpose."""


@pytest.fixture(params=[False, True], ids=["keep-alive", "server-closes-idle"])
def server(request: pytest.FixtureRequest) -> Iterator[ThreadingHTTPServer]:
    handler = type("H", (Handler,), {"close_after_reply": request.param})
    httpd = QuietServer(("127.0.0.1", 0), handler)
    # A list, not a set of addresses: the kernel may give a later connection a port an earlier,
    # closed one had.
    httpd.connections = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(httpd: ThreadingHTTPServer, path: str = "/") -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}{path}"


def test_sequential_requests_work_and_reuse_a_live_connection(server: ThreadingHTTPServer) -> None:
    with httpx.Client(transport=StdlibTransport(repeat_on_stale=True)) as client:
        answers = [client.get(url(server)).text for _ in range(3)]
    assert answers == ["xx"] * 3
    closes = server.RequestHandlerClass.close_after_reply  # type: ignore[attr-defined]
    assert len(server.connections) == (3 if closes else 1)  # type: ignore[attr-defined]


def test_a_body_left_unread_drops_the_connection(server: ThreadingHTTPServer) -> None:
    transport = StdlibTransport()
    with httpx.Client(transport=transport) as client:
        with client.stream("GET", url(server, "/big")) as response:
            next(response.iter_bytes())
        assert transport._connections == {}
        assert client.get(url(server)).text == "xx"


def test_refused_connection_is_an_httpx_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with httpx.Client(transport=StdlibTransport()) as client, pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{port}/")


def test_silent_server_is_an_httpx_read_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with httpx.Client(transport=StdlibTransport()) as client, pytest.raises(httpx.ReadTimeout):
            client.get(f"http://127.0.0.1:{port}/", timeout=0.3)


@pytest.fixture
def drops_second_request() -> Iterator[int]:
    """A server that answers the first request on each connection, then reads the second and
    closes without a word: a request that reached the server and got no answer."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve(conn: socket.socket) -> None:
        with conn:
            for number in (1, 2):
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                if number == 1:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield int(listener.getsockname()[1])
    listener.close()


def test_an_answerless_close_after_sending_is_never_called_unreachable(
    drops_second_request: int,
) -> None:
    """For an A2A send that might have arrived, "unreachable" would invite a second send."""
    with httpx.Client(transport=StdlibTransport()) as client:
        assert client.get(f"http://127.0.0.1:{drops_second_request}/").text == "ok"
        with pytest.raises(httpx.ReadError):
            client.post(f"http://127.0.0.1:{drops_second_request}/", content=b"{}")


def test_a_repeatable_client_sends_again_on_a_fresh_connection(drops_second_request: int) -> None:
    with httpx.Client(transport=StdlibTransport(repeat_on_stale=True)) as client:
        answers = [client.get(f"http://127.0.0.1:{drops_second_request}/").text for _ in range(2)]
    assert answers == ["ok", "ok"]


# ---- bounds against a misbehaving peer (issue 16) -----------------------------------------


def test_a_body_beyond_the_limit_ends_the_exchange() -> None:
    server = HostileAgentServer().start()
    try:
        with httpx.Client(transport=StdlibTransport(body_limit=1024 * 1024)) as client:
            url = f"{server.base_url}/api/a2a/ns/huge-body/"
            with pytest.raises(ResponseTooLarge):
                client.post(url, json={"method": "message/send", "id": 1})
    finally:
        server.stop()


def test_the_deadline_bounds_a_trickled_answer() -> None:
    server = HostileAgentServer().start()
    try:
        with httpx.Client(transport=StdlibTransport()) as client:
            url = f"{server.base_url}/api/a2a/ns/trickle-send/"
            start = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                client.post(
                    url,
                    json={"method": "message/send", "id": 1},
                    timeout=5,  # each byte comes well within it: only the deadline ends this
                    extensions={"deadline": start + 1},
                )
            assert time.monotonic() - start < 3
    finally:
        server.stop()


# ---- what a bounded transport asks for and reads (issue 22) ---------------------------------


class Labelled(BaseHTTPRequestHandler):
    """Answers 64 KiB labelled as the path says (`/gzip`: gzip-encoded; `/sse`: an event
    stream), and records the Accept-Encoding each request asked for."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.asked.append(self.headers.get("Accept-Encoding"))  # type: ignore[attr-defined]
        body = b"data: x\n" * 8192
        self.send_response(200)
        if self.path == "/gzip":
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        kind = "text/event-stream" if self.path == "/sse" else "text/plain"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture
def labelled() -> Iterator[ThreadingHTTPServer]:
    httpd = QuietServer(("127.0.0.1", 0), Labelled)
    httpd.asked = []  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_a_bounded_transport_asks_for_identity_and_refuses_other_encodings(
    labelled: ThreadingHTTPServer,
) -> None:
    with httpx.Client(transport=StdlibTransport(body_limit=1 << 20)) as client:
        with pytest.raises(EncodingRefused, match="Content-Encoding 'gzip'"):
            client.get(url(labelled, "/gzip"))
        assert client.get(url(labelled, "/plain")).status_code == 200
    assert labelled.asked == ["identity", "identity"]  # type: ignore[attr-defined]


def test_an_unbounded_transport_passes_the_clients_encodings_through(
    labelled: ThreadingHTTPServer,
) -> None:
    with httpx.Client(transport=StdlibTransport()) as client:
        answer = client.get(url(labelled, "/gzip"))
    assert answer.content == b"data: x\n" * 8192  # decoded by httpx, as asked
    assert "gzip" in labelled.asked[0]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "asked_for_a_stream", "bounded"),
    [
        pytest.param("/sse", True, False, id="stream-asked-for-and-given"),
        pytest.param("/sse", False, True, id="stream-given-where-none-was-asked-for"),
        pytest.param("/plain", True, True, id="stream-asked-for-not-given"),
    ],
)
def test_only_an_event_stream_asked_for_goes_unbounded(
    labelled: ThreadingHTTPServer, path: str, asked_for_a_stream: bool, bounded: bool
) -> None:
    extensions = {"event_stream": True} if asked_for_a_stream else {}
    with httpx.Client(transport=StdlibTransport(body_limit=1024)) as client:
        request = client.build_request("GET", url(labelled, path), extensions=extensions)
        if bounded:
            with pytest.raises(ResponseTooLarge):
                client.send(request).read()
        else:
            assert len(client.send(request).read()) == 65536
