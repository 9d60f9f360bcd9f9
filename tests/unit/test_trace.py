"""runner.trace and runner.otlp: the run's W3C trace context (the caller's trace when a valid
traceparent is given, a new one otherwise, the same ids for a runner restarted on the same Job),
the OTLP/JSON span request, and where the OpenTelemetry variables send it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from runner import otlp, trace

UID = "0f6c9e44-4a0b-4a2e-9d6f-6b1b0a6f2c11"
CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_run_without_a_caller_starts_its_own_trace_the_same_for_the_same_job() -> None:
    first, again, other = trace.for_run(UID), trace.for_run(UID), trace.for_run(UID + "x")
    assert first == again
    assert first.trace_id != other.trace_id
    assert first.parent_span_id is None
    assert trace.parse_traceparent(first.traceparent()) == trace.Parent(
        first.trace_id, first.span_id, True
    )


def test_a_run_joins_the_callers_trace() -> None:
    joined = trace.for_run(UID, CALLER)
    assert (joined.trace_id, joined.parent_span_id, joined.sampled) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        True,
    )
    assert joined.span_id == trace.for_run(UID).span_id
    assert joined.headers() == {"traceparent": f"00-{joined.trace_id}-{joined.span_id}-01"}


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param(CALLER, True, id="valid"),
        pytest.param(CALLER[:-2] + "00", True, id="not-sampled"),
        pytest.param("01" + CALLER[2:] + "-what-comes-later", True, id="future-version-extra"),
        pytest.param(CALLER + "-extra", False, id="version-00-with-extra"),
        pytest.param("ff" + CALLER[2:], False, id="version-ff"),
        pytest.param(CALLER.upper(), False, id="uppercase"),
        pytest.param("00-" + "0" * 32 + "-00f067aa0ba902b7-01", False, id="zero-trace"),
        pytest.param(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01", False, id="zero-span"
        ),
        pytest.param("00-4bf92f35-00f067aa0ba902b7-01", False, id="short"),
        pytest.param(None, False, id="absent"),
        pytest.param(12, False, id="not-text"),
    ],
)
def test_traceparent_validation(value: object, valid: bool) -> None:
    joined = trace.for_run(UID, value)
    assert (joined.parent_span_id is not None) == valid


def test_the_span_request() -> None:
    context = trace.for_run(UID, CALLER)
    start = datetime(2026, 3, 1, 2, 0, 0, 250000, tzinfo=UTC)
    body = otlp.span_request(
        context,
        start=start,
        end=start + timedelta(seconds=3),
        attributes={"kagent.scheduledrun.name": "nightly", "kagent.scheduledrun.runs": 4},
        ok=False,
        message="task failed",
        events=[otlp.Event("sent", start + timedelta(seconds=1))],
        version="0.1.0",
    )
    (resource,) = body["resourceSpans"]
    assert resource["resource"]["attributes"] == [
        {"key": "service.name", "value": {"stringValue": "kagent-scheduledrun-runner"}}
    ]
    ((span,),) = [s["spans"] for s in resource["scopeSpans"]]
    assert span == {
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
        "spanId": context.span_id,
        "parentSpanId": "00f067aa0ba902b7",
        "name": "scheduledrun run",
        "kind": 3,
        "startTimeUnixNano": "1772330400250000000",
        "endTimeUnixNano": "1772330403250000000",
        "attributes": [
            {"key": "kagent.scheduledrun.name", "value": {"stringValue": "nightly"}},
            {"key": "kagent.scheduledrun.runs", "value": {"intValue": "4"}},
        ],
        "events": [{"timeUnixNano": "1772330401250000000", "name": "sent"}],
        "status": {"code": 2, "message": "task failed"},
    }


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({}, None, id="nothing-set"),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
            otlp.Target("http://collector:4318/v1/traces", {}),
            id="base-endpoint",
        ),
        pytest.param(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example/otlp",
                "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=team%20a, bad",
            },
            otlp.Target("https://traces.example/otlp", {"x-tenant": "team a"}),
            id="traces-endpoint-and-headers",
        ),
    ],
)
def test_the_target_from_the_opentelemetry_variables(
    env: dict[str, str], expected: otlp.Target | None
) -> None:
    assert otlp.target_from_env(env) == expected
