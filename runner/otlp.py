"""One span per run, exported over OTLP/HTTP with JSON, without an OpenTelemetry SDK (the runner
starts on every tick and pays for every import: httpx is already loaded).

Where to: the OpenTelemetry SDKs' own variables, so a platform's usual settings work:
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as given) or `OTEL_EXPORTER_OTLP_ENDPOINT` (the base;
`/v1/traces` is appended), and `OTEL_EXPORTER_OTLP_HEADERS` / `..._TRACES_HEADERS` as
`key=value,key=value`. Neither endpoint set: nothing is exported. Only `http/json` is spoken.
The export is best effort and bounded: a collector that is down, slow or answers an error costs
the run at most EXPORT_TIMEOUT seconds, a log line and nothing else (no retry, no redirect).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import unquote

import httpx

from runner import api
from runner.trace import TraceContext

SERVICE_NAME: Final = "kagent-scheduledrun-runner"
SCOPE: Final = "kagent-scheduledrun"
SPAN_NAME: Final = "scheduledrun run"
EXPORT_TIMEOUT: Final = 5.0
SPAN_KIND_CLIENT: Final = 3  # the run calls the agent
STATUS_OK: Final = 1
STATUS_ERROR: Final = 2
ANSWER_MAX: Final = 64 * 1024  # a collector's answer is read no further

Attribute = str | int | bool


@dataclass(frozen=True)
class Event:
    name: str
    at: datetime


@dataclass(frozen=True)
class Target:
    url: str
    headers: dict[str, str]


def target_from_env(env: Mapping[str, str] = os.environ) -> Target | None:
    """Where spans go, from the OpenTelemetry variables; None when no endpoint is set."""
    url = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if not url:
        base = env.get(api.ENV_OTLP_ENDPOINT, "").strip()
        if not base:
            return None
        url = base.rstrip("/") + "/v1/traces"
    headers: dict[str, str] = {}
    for variable in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"):
        for pair in env.get(variable, "").split(","):
            key, sep, value = pair.partition("=")
            if sep and key.strip():
                headers[key.strip()] = unquote(value.strip())
    return Target(url, headers)


def _nanos(at: datetime) -> str:
    # OTLP/JSON carries 64-bit integers as strings; microseconds are all a datetime holds.
    return str((int(at.timestamp()) * 1_000_000 + at.microsecond) * 1000)


def _attribute(key: str, value: Attribute) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def span_request(
    context: TraceContext,
    *,
    start: datetime,
    end: datetime,
    attributes: Mapping[str, Attribute],
    ok: bool,
    message: str,
    events: Sequence[Event] = (),
    version: str = "",
) -> dict[str, Any]:
    """An OTLP ExportTraceServiceRequest (JSON mapping: ids in hex) holding the run's span."""
    span: dict[str, Any] = {
        "traceId": context.trace_id,
        "spanId": context.span_id,
        "name": SPAN_NAME,
        "kind": SPAN_KIND_CLIENT,
        "startTimeUnixNano": _nanos(start),
        "endTimeUnixNano": _nanos(max(end, start)),
        "attributes": [_attribute(k, v) for k, v in attributes.items()],
        "events": [{"timeUnixNano": _nanos(e.at), "name": e.name} for e in events],
        "status": {"code": STATUS_OK} if ok else {"code": STATUS_ERROR, "message": message},
    }
    if context.parent_span_id:
        span["parentSpanId"] = context.parent_span_id
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attribute("service.name", SERVICE_NAME)]},
                "scopeSpans": [{"scope": {"name": SCOPE, "version": version}, "spans": [span]}],
            }
        ]
    }


def export(target: Target, request: Mapping[str, Any], timeout: float = EXPORT_TIMEOUT) -> str:
    """Send the request; "" when the collector took it, else what went wrong (for the log)."""
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream(
                "POST",
                target.url,
                json=request,
                headers={**target.headers, "Content-Type": "application/json"},
            ) as response,
        ):
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read > ANSWER_MAX:
                    break
            if response.status_code // 100 != 2:
                return f"collector answered HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        return f"export failed: {type(exc).__name__}: {exc}"
    return ""
