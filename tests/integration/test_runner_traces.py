"""A run in a distributed trace, against the real control plane and the a2a-sdk agent:
every A2A request carries the run's W3C `traceparent`, the history entry records its trace id,
and an OTLP/HTTP receiver on loopback gets one valid span (checked against OpenTelemetry's own
protobuf schema) whose trace id is the entry's, under the caller's trace when the Job carries
one, with the run's steps as events. A collector that is down costs the run nothing but a log
line."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.protobuf import json_format  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from devcluster.agents import AgentServer, running
from devcluster.cluster import ControlPlane
from runner import api, trace
from tests.runner_process import T0, create_job, create_scheduledrun, run_history, start_runner

pytestmark = pytest.mark.cluster

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP JSON endpoint on loopback that keeps what it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.paths.append(self.path)
        self.server.bodies.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def as_protobuf(body: dict[str, Any]) -> ExportTraceServiceRequest:
    """OTLP/JSON carries ids in hex; the protobuf JSON mapping wants base64 (as the collector
    converts them), the rest is the schema's own."""
    copy = json.loads(json.dumps(body))
    for resource in copy["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    parsed = ExportTraceServiceRequest()
    json_format.Parse(json.dumps(copy), parsed)  # raises on any field the schema lacks
    return parsed


@pytest.mark.parametrize(
    "caller", [pytest.param(CALLER, id="caller-trace"), pytest.param(None, id="own-trace")]
)
def test_a_run_carries_its_trace_to_the_agent_the_entry_and_the_collector(
    control_plane: ControlPlane,
    namespace: str,
    agents: AgentServer,
    receiver: Receiver,
    caller: str | None,
) -> None:
    agent = f"echo-traced-{'caller' if caller else 'own'}"
    create_scheduledrun(control_plane, namespace, "traced", agent)
    annotations = {api.ANNOTATION_TRACEPARENT: caller} if caller else {}
    uid = create_job(control_plane, namespace, "traced-1", T0, annotations)
    before = len(agents.requests)
    runner = start_runner(
        control_plane,
        agents,
        namespace,
        "traced",
        "traced-1",
        uid,
        extra_env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint},
    )
    assert runner.wait(timeout=120) == api.EXIT_SUCCEEDED, (
        runner.stderr.read() if runner.stderr else ""
    )

    [entry] = run_history(control_plane, namespace, "traced")
    expected = trace.for_run(uid, caller)
    assert entry["traceID"] == expected.trace_id
    if caller:
        assert entry["traceID"] == "4bf92f3577b34da6a3ce929d0e0e4736"

    sent = [r for r in agents.requests[before:] if f"/{agent}/" in r.path]
    assert sent  # card, send, and the follow-up reads
    assert {r.traceparent for r in sent} == {expected.traceparent()}

    assert receiver.paths == ["/v1/traces"]
    (body,) = receiver.bodies
    parsed = as_protobuf(body)
    (span,) = [s for rs in parsed.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert span.trace_id.hex() == entry["traceID"]
    assert span.span_id.hex() == expected.span_id
    assert span.parent_span_id.hex() == ("00f067aa0ba902b7" if caller else "")
    assert span.status.code == span.status.STATUS_CODE_OK
    assert span.end_time_unix_nano > span.start_time_unix_nano
    events = [e.name for e in span.events]
    assert "pending-written" in events
    assert "sent" in events
    attributes = {a.key: a.value.string_value for a in span.attributes}
    assert attributes["kagent.scheduledrun.status"] == "Succeeded"
    assert attributes["a2a.task.id"] == entry["taskID"]


def test_a_collector_that_is_down_costs_the_run_nothing(
    control_plane: ControlPlane, namespace: str, agents: AgentServer
) -> None:
    create_scheduledrun(control_plane, namespace, "untraced", "echo-untraced")
    uid = create_job(control_plane, namespace, "untraced-1", T0)
    runner = start_runner(
        control_plane,
        agents,
        namespace,
        "untraced",
        "untraced-1",
        uid,
        extra_env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
    )
    assert runner.wait(timeout=120) == api.EXIT_SUCCEEDED
    log = [
        json.loads(line) for line in (runner.stderr.read() if runner.stderr else "").splitlines()
    ]
    [entry] = run_history(control_plane, namespace, "untraced")
    assert entry["status"] == "Succeeded"
    (failed,) = [line for line in log if line["step"] == "span-not-exported"]
    assert "ConnectError" in failed["error"]
