"""A run's place in a distributed trace (W3C Trace Context), so the agent's traces in kagent can
be found from the run and the run from the agent's traces.

Every A2A request of a run carries `traceparent: 00-<trace id>-<span id>-<flags>`. The trace is
the caller's when the Job carries one in its `kagent.dev/traceparent` annotation (a trigger's
caller passing its own context on), else a new one per run. Ids are derived from the Job's uid,
not drawn at random: a runner restarted for the same Job continues the same trace and the same
span, as it continues the same history entry. Pure; the span's export is runner/otlp.py's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

HEADER: Final = "traceparent"
# W3C Trace Context, version 00: version-traceid-parentid-flags, lowercase hex.
_TRACEPARENT: Final = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_SAMPLED: Final = 0x01


@dataclass(frozen=True)
class TraceContext:
    trace_id: str  # 32 lowercase hex digits, not all zero
    span_id: str  # this run's span: 16 lowercase hex digits, not all zero
    parent_span_id: str | None  # the caller's span, when the run joined its trace
    sampled: bool

    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    def headers(self) -> dict[str, str]:
        return {HEADER: self.traceparent()}


@dataclass(frozen=True)
class Parent:
    trace_id: str
    span_id: str
    sampled: bool


def parse_traceparent(value: object) -> Parent | None:
    """The caller's context from a `traceparent` value; None when it is not a valid one (the
    specification says to start a new trace then). A version above 00 is read by its first four
    fields, as the specification asks; version ff is invalid."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _TRACEPARENT.match(text)
    if match is None:
        return None
    version, trace_id, span_id, flags = match.groups()
    rest = text[match.end() :]
    if version == "ff" or (version == "00" and rest) or (rest and not rest.startswith("-")):
        return None
    if trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return Parent(trace_id, span_id, bool(int(flags, 16) & _SAMPLED))


def _derived(kind: str, job_uid: str, digits: int) -> str:
    digest = hashlib.sha256(f"{kind}:{job_uid}".encode()).hexdigest()[:digits]
    return digest if digest.strip("0") else "1".rjust(digits, "0")  # never all zero


def for_run(job_uid: str, parent: object = None) -> TraceContext:
    """The run's context: under the caller's trace when `parent` is a valid traceparent, else a
    trace of its own; the same Job uid always gives the same ids."""
    span_id = _derived("span", job_uid, 16)
    given = parse_traceparent(parent)
    if given is not None:
        return TraceContext(given.trace_id, span_id, given.span_id, given.sampled)
    return TraceContext(_derived("trace", job_uid, 32), span_id, None, True)
