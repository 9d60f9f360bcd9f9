"""runner.a2a against the official a2a-sdk server (devcluster/agents.py), in protocol 0.3 and 1.0.

Every call runs over the runner's http.client transport and over httpx's default one. Covers:
the card, send/get/cancel/list/subscribe and every error class. What a state means for the
run (the outcome mapping) is in test_runner_lifecycle.py; the whole run in test_runner_run.py.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devcluster.agents import AgentServer, running
from devcluster.hostile_agent import SEPARATED_ANSWER, HostileAgentServer
from runner import a2a
from runner.a2a import A2AClient, Protocol, TaskView
from runner.transport import StdlibTransport

PROTOCOLS = [pytest.param("0.3", id="v0.3"), pytest.param("1.0", id="v1.0")]


@pytest.fixture(scope="module")
def server() -> Iterator[AgentServer]:
    with running() as s:
        yield s


@pytest.fixture(params=["stdlib-transport", "httpx-transport"])
def http(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """The runner's own transport, and httpx's default one as the reference."""
    transport = StdlibTransport() if request.param == "stdlib-transport" else None
    with httpx.Client(transport=transport) as client:
        yield client


def client_for(server: AgentServer, http: httpx.Client, name: str, protocol: Protocol) -> A2AClient:
    return A2AClient(http, server.url("ns", name), protocol)


def wait_settled(client: A2AClient, view: TaskView, seconds: float = 5.0) -> TaskView:
    deadline = time.monotonic() + seconds
    while not view.settled and time.monotonic() < deadline:
        time.sleep(0.05)
        view = client.get(view.task_id, 5)
    return view


@pytest.mark.parametrize(
    ("name", "protocol", "streaming"),
    [
        pytest.param("echo-card", "1.0", True, id="both-interfaces-picks-1.0"),
        pytest.param("echo-card-v03", "0.3", True, id="only-0.3"),
        pytest.param("echo-card-nostream", "1.0", False, id="no-streaming"),
    ],
)
def test_card_gives_protocol_and_streaming(
    server: AgentServer, http: httpx.Client, name: str, protocol: str, streaming: bool
) -> None:
    card = a2a.fetch_card(http, server.url("ns", name), 5)
    assert a2a.read_card(card) == a2a.AgentInfo(protocol, streaming)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("card", "expected"),
    [
        pytest.param(
            {"protocolVersion": "0.3.0", "url": "x", "capabilities": {"streaming": True}},
            a2a.AgentInfo("0.3", True),
            id="kagent-0.3-card",
        ),
        pytest.param(
            {"supportedInterfaces": [{"protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"}]},
            a2a.AgentInfo("0.3", False),
            id="1.0-only-over-rest-is-not-ours",
        ),
        pytest.param({}, a2a.AgentInfo("0.3", False), id="empty-card"),
        pytest.param({"protocolVersion": "1.0"}, a2a.AgentInfo("1.0", False), id="top-level-1.0"),
    ],
)
def test_the_agent_card_gives_the_protocol_and_streaming(
    card: dict[str, Any], expected: a2a.AgentInfo
) -> None:
    assert a2a.read_card(card) == expected


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_send_then_poll_to_completion(
    server: AgentServer, http: httpx.Client, protocol: Protocol
) -> None:
    name = f"echo-poll-{protocol}-{uuid.uuid4().hex[:8]}"  # one agent per case: counts below
    client = client_for(server, http, name, protocol)
    sent = client.send("hello there", f"m-{protocol}", f"c-{protocol}", 5)
    assert (sent.is_message, sent.context_id) == (False, f"c-{protocol}")
    done = wait_settled(client, sent)
    assert (done.state, done.text) == ("completed", "echo: hello there")
    assert [r.message_id for r in server.received_by(name)] == [f"m-{protocol}"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("name", "state", "text"),
    [
        pytest.param("fail", "failed", "agent failed: tool exploded", id="failure"),
        pytest.param("reject", "rejected", "agent rejected: not allowed", id="rejection"),
        pytest.param("input", "input-required", "need approval from a person", id="input-required"),
        pytest.param("auth", "auth-required", "needs a login", id="auth-required"),
    ],
)
def test_task_ends_in_state_with_agent_text(
    server: AgentServer, http: httpx.Client, protocol: Protocol, name: str, state: str, text: str
) -> None:
    client = client_for(server, http, f"{name}-x-{protocol}", protocol)
    done = wait_settled(client, client.send("go", "m1", "c1", 5))
    assert (done.state, done.text) == (state, text)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_plain_message_reply(server: AgentServer, http: httpx.Client, protocol: Protocol) -> None:
    reply = client_for(server, http, f"message-{protocol}", protocol).send("hi", "m1", "c1", 5)
    assert (reply.is_message, reply.terminal, reply.text) == (True, True, "hello from a message")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cancel_a_hanging_task(server: AgentServer, http: httpx.Client, protocol: Protocol) -> None:
    client = client_for(server, http, f"hang-{protocol}", protocol)
    sent = client.send("wait", "m1", "c1", 5)
    assert not client.get(sent.task_id, 5).settled
    cancelled = client.cancel(sent.task_id, 5)
    assert cancelled.state == "canceled"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_subscribe_streams_until_the_end(
    server: AgentServer, http: httpx.Client, protocol: Protocol
) -> None:
    client = client_for(server, http, f"slow-300-{protocol}", protocol)
    sent = client.send("wait", "m1", "c1", 5)
    states = [view.state for view in client.subscribe(sent.task_id, 5)]
    assert states[-1] == "completed"
    assert len(states) >= 2  # the current task first, then its updates


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_subscribe_to_a_finished_task_is_an_rpc_error(
    server: AgentServer, http: httpx.Client, protocol: Protocol
) -> None:
    client = client_for(server, http, f"echo-sub-{protocol}", protocol)
    done = wait_settled(client, client.send("x", "m1", "c1", 5))
    with pytest.raises(a2a.RpcError, match="JSON-RPC error"):
        list(client.subscribe(done.task_id, 5))


def test_list_by_context_finds_the_task_in_1_0(server: AgentServer, http: httpx.Client) -> None:
    client = client_for(server, http, f"echo-list-{uuid.uuid4().hex[:8]}", "1.0")
    sent = client.send("x", "m-list", "ctx-list", 5)
    found = client.list_by_context("ctx-list", 5)
    assert [t.task_id for t in found or []] == [sent.task_id]
    assert client.list_by_context("ctx-other", 5) == []


def test_list_by_context_is_not_offered_in_0_3(server: AgentServer, http: httpx.Client) -> None:
    assert client_for(server, http, "echo-list", "0.3").list_by_context("ctx", 5) is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        pytest.param(
            "http500", a2a.BadAnswer, "HTTP 500 from the agent: upstream exploded", id="http-500"
        ),
        pytest.param("badjson", a2a.BadAnswer, "not JSON (text/html", id="non-json"),
        pytest.param(
            "rpcerror",
            a2a.RpcError,
            "JSON-RPC error -32603: agent backend unavailable",
            id="rpc-error",
        ),
    ],
)
def test_broken_agents_raise_what_happened(
    server: AgentServer,
    http: httpx.Client,
    protocol: Protocol,
    name: str,
    error: type[Exception],
    words: str,
) -> None:
    with pytest.raises(error, match=re.escape(words)):
        client_for(server, http, name, protocol).send("x", "m1", "c1", 5)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unreachable_agent(http: httpx.Client, protocol: Protocol) -> None:
    client = A2AClient(http, f"http://127.0.0.1:{free_port()}/api/a2a/ns/echo/", protocol)
    with pytest.raises(a2a.Unreachable, match=re.escape("agent unreachable at http://127.0.0.1")):
        client.send("x", "m1", "c1", 5)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_agent_that_never_answers(
    server: AgentServer, http: httpx.Client, protocol: Protocol
) -> None:
    with pytest.raises(a2a.NoAnswer, match=re.escape("no answer from the agent within 1s")):
        client_for(server, http, "silent", protocol).send("x", "m1", "c1", 0.6)


@pytest.mark.timeout(20)  # without the deadline the stream would never end
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_subscribe_stops_at_its_deadline_even_while_the_server_pings(
    server: AgentServer, http: httpx.Client, protocol: Protocol
) -> None:
    client = client_for(server, http, "pinger", protocol)
    start = time.monotonic()
    assert list(client.subscribe("any-task", timeout=5, until=start + 0.5)) == []
    assert time.monotonic() - start < 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("TASK_STATE_INPUT_REQUIRED", "input-required", id="1.0-name"),
        pytest.param("input-required", "input-required", id="0.3-name"),
        pytest.param("TASK_STATE_UNSPECIFIED", "unknown", id="unspecified"),
        pytest.param(None, "unknown", id="missing"),
        pytest.param("TASK_STATE_COMPLETED", "completed", id="completed"),
    ],
)
def test_task_states_of_both_protocols_read_alike(raw: object, expected: str) -> None:
    assert a2a.normalize_state(raw) == expected


@pytest.mark.parametrize(
    ("result", "protocol", "expected"),
    [
        pytest.param(
            {"task": {"id": "t", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}}},
            "1.0",
            TaskView("t", "c", "working", ""),
            id="1.0-task",
        ),
        pytest.param(
            {
                "statusUpdate": {
                    "taskId": "t",
                    "contextId": "c",
                    "status": {
                        "state": "TASK_STATE_FAILED",
                        "message": {"parts": [{"text": "boom"}]},
                    },
                }
            },
            "1.0",
            TaskView("t", "c", "failed", "boom"),
            id="1.0-status-update",
        ),
        pytest.param({"artifactUpdate": {}}, "1.0", None, id="1.0-artifact-update-has-no-state"),
        pytest.param(
            {
                "kind": "task",
                "id": "t",
                "contextId": "c",
                "status": {"state": "completed"},
                "artifacts": [{"parts": [{"kind": "text", "text": "the answer"}]}],
            },
            "0.3",
            TaskView("t", "c", "completed", "the answer"),
            id="0.3-completed-answer-from-artifacts",
        ),
        pytest.param(
            {"kind": "message", "contextId": "c", "parts": [{"kind": "text", "text": "hi"}]},
            "0.3",
            TaskView("", "c", "completed", "hi", is_message=True),
            id="0.3-message",
        ),
        pytest.param(
            {
                "kind": "status-update",
                "taskId": "t",
                "contextId": "c",
                "status": {"state": "canceled"},
            },
            "0.3",
            TaskView("t", "c", "canceled", ""),
            id="0.3-status-update",
        ),
    ],
)
def test_result_view(result: dict[str, Any], protocol: Protocol, expected: TaskView | None) -> None:
    assert a2a.result_view(result, protocol) == expected


def test_result_view_rejects_an_unknown_shape() -> None:
    with pytest.raises(a2a.BadAnswer, match=re.escape("unexpected A2A 1.0 result")):
        a2a.result_view({"weird": 1}, "1.0")


# ---- what a hostile agent may not send (issue 16) -------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"[" * 40_000 + b"]" * 40_000, id="40k-deep"),
        pytest.param(b"[" * 65 + b"]" * 65, id="one-past-the-limit"),
    ],
)
def test_json_nested_too_deep_is_a_value_error_never_a_recursion_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="nested deeper than 64"):
        a2a.parse_json(data)


def test_json_at_the_depth_limit_reads() -> None:
    assert a2a.parse_json(b"[" * 64 + b"]" * 64) is not None


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        pytest.param("2f0c1a3e-9b7d-4c1e-8f00-1234567890ab", True, id="uuid"),
        pytest.param("t" * 256, True, id="at-the-limit"),
        pytest.param("t" * 257, False, id="too-long"),
        pytest.param("task 1", False, id="space"),
        pytest.param("task\n1", False, id="control"),
        pytest.param("tâche", False, id="non-ascii"),
    ],
)
def test_agent_ids_the_history_can_hold(value: str, accepted: bool) -> None:
    if accepted:
        assert a2a.checked_id(value, "task id") == value
    else:
        with pytest.raises(a2a.Misbehaved):
            a2a.checked_id(value, "task id")


def test_an_answer_about_another_task_is_refused() -> None:
    view = TaskView("t-2", "c", "completed", "")
    with pytest.raises(a2a.Misbehaved, match="'t-2' when asked about 't-1'"):
        a2a._about(view, "t-1")


# ---- what a hostile agent may not send, round two (issue 22) --------------------------------


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileAgentServer]:
    server = HostileAgentServer().start()
    yield server
    server.stop()


def hostile_client(server: HostileAgentServer, name: str) -> Iterator[A2AClient]:
    with httpx.Client(transport=a2a.agent_transport()) as http:
        yield A2AClient(http, f"{server.base_url}/api/a2a/ns/{name}/", "0.3")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        pytest.param("gzip-send", "answer came with Content-Encoding 'gzip'", id="gzip-answer"),
        pytest.param("sse-send", "answer is too large", id="event-stream-where-json-is-due"),
        pytest.param("values-send", "more than 50000 values", id="4MiB-of-empty-objects"),
    ],
)
def test_an_answer_beyond_the_bounds_is_refused_with_what_it_was(
    hostile: HostileAgentServer, name: str, says: str
) -> None:
    for client in hostile_client(hostile, name):
        with pytest.raises(a2a.Misbehaved, match=says):
            client.send("hi", "m-1", "c-1", 20)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        pytest.param("gzip-card", "card came with Content-Encoding 'gzip'", id="gzip-card"),
        pytest.param("sse-card", "card is too large", id="event-stream-card"),
        pytest.param("values-card", "more than 50000 values", id="4MiB-of-empty-objects"),
    ],
)
def test_a_card_beyond_the_bounds_is_refused_with_what_it_was(
    hostile: HostileAgentServer, name: str, says: str
) -> None:
    with httpx.Client(transport=a2a.agent_transport()) as http:
        url = f"{hostile.base_url}/api/a2a/ns/{name}/"
        with pytest.raises(a2a.Misbehaved, match=says):
            a2a.fetch_card(http, url, 20)


def test_an_event_that_never_ends_is_refused(hostile: HostileAgentServer) -> None:
    for client in hostile_client(hostile, "long-event"):
        with pytest.raises(a2a.Misbehaved, match="event stream is too large"):
            list(client.subscribe("t-1", 20))


def test_events_carrying_every_unicode_line_separator_read_whole(
    hostile: HostileAgentServer,
) -> None:
    for client in hostile_client(hostile, "separators"):
        views = list(client.subscribe("t-1", 20))
    assert [(v.state, v.text) for v in views] == [
        ("working", SEPARATED_ANSWER),
        ("completed", SEPARATED_ANSWER),
    ]


@pytest.mark.parametrize(
    ("data", "values"),
    [
        pytest.param(b"[]", 1, id="empty-array"),
        pytest.param(b'{"a": 1, "b": [2, 3]}', 5, id="keys-not-counted"),
        pytest.param(b'["a,b", "{[", "\\"x,"]', 4, id="commas-in-strings-not-counted"),
        pytest.param(b"[{},{},{}]", 4, id="empty-objects"),
    ],
)
def test_json_values_bound_what_parsing_builds(data: bytes, values: int) -> None:
    assert a2a.json_values(data) == values


def test_json_at_the_values_limit_reads() -> None:
    at_limit = b"[" + b"0," * (a2a.JSON_MAX_VALUES - 2) + b"0]"
    assert len(a2a.parse_json(at_limit)) == a2a.JSON_MAX_VALUES - 1
    with pytest.raises(a2a.JsonBeyondBounds, match="more than 50000 values"):
        a2a.parse_json(b"[" + b"0," * a2a.JSON_MAX_VALUES + b"0]")
