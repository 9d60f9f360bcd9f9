"""Pure decisions of one run: ids, trigger, where to resume, what a task state means, when to
look again. `runner.run` carries them out; keeping them here lets tests pin each rule with fixed
inputs and no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from runner import api, history
from runner.a2a import A2AError, BadAnswer, NoAnswer, RpcError, TaskView, Unreachable

# Fixed namespace for uuid5: the same Job uid always gives the same ids, on any machine.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://kagent.dev/scheduledrun")


# Where a run stands: `step_for` starts it at one of four; "send" is where a start goes once its
# own Pending entry is written.
Step = Literal["start", "send", "done", "follow", "resolve"]


@dataclass(frozen=True)
class Outcome:
    """A definite end of the run."""

    status: api.RunStatus
    message: str


def derive_ids(job_uid: str) -> tuple[str, str]:
    """(messageId, contextId) of the run of this Job: a resend after a crash carries the same."""
    return (
        str(uuid.uuid5(ID_NAMESPACE, f"message/{job_uid}")),
        str(uuid.uuid5(ID_NAMESPACE, f"context/{job_uid}")),
    )


def trigger_of(annotations: Mapping[str, str]) -> api.Trigger:
    """Manual when the Job was made by `kubectl create job --from=cronjob/...`."""
    return "Manual" if annotations.get(api.ANNOTATION_INSTANTIATE) == "manual" else "Scheduled"


def scheduled_time_of(annotations: Mapping[str, str], trigger: api.Trigger) -> datetime | None:
    """The tick a scheduled Job was made for (None for manual runs or without the annotation)."""
    if trigger == "Manual":
        return None
    return history.parse_time(annotations.get(api.ANNOTATION_SCHEDULED_TIME))


def agent_url(base_url: str, kind: str, namespace: str, name: str) -> str:
    """kagent's A2A address of an Agent or SandboxAgent."""
    if kind not in api.TARGET_KINDS:
        raise ValueError(f"targetRef.kind {kind!r} is not Agent or SandboxAgent")
    if not name:
        raise ValueError("targetRef.name is empty")
    return f"{base_url.rstrip('/')}/api/{api.TARGET_KINDS[kind].a2a_segment}/{namespace}/{name}/"


def step_for(entry: Mapping[str, Any] | None) -> Step:
    """Where a runner starts, given its Job's history entry.

    start: no entry, write Pending and send; done: terminal, dispatch nothing; follow: Pending
    with a task id; resolve: Pending without one (a previous runner may or may not have sent).
    """
    if entry is None:
        return "start"
    if history.is_terminal(entry):
        return "done"
    return "follow" if entry.get("taskID") else "resolve"


def exit_code(status: str) -> int:
    """0 for success, the final-failure code for any other outcome, retry for the unfinished."""
    if status == "Succeeded":
        return api.EXIT_SUCCEEDED
    if status in api.TERMINAL_STATUSES:
        return api.EXIT_FINAL_FAILURE
    return api.EXIT_RETRY


def deadline_of(entry: Mapping[str, Any], timeout: timedelta, now: datetime) -> datetime:
    """When the run must have ended: from the entry's startTime, so a restart does not extend it."""
    return (history.parse_time(entry.get("startTime")) or now) + timeout


_STATE_WORDS = {
    "failed": "task failed",
    "rejected": "task rejected",
    "canceled": "task canceled",
    "input-required": "agent needs input (input-required), and a scheduled run has no one to ask",
    "auth-required": "agent needs authentication (auth-required), and a scheduled run has no one"
    " to ask",
}


def outcome_of(view: TaskView) -> Outcome | None:
    """The run's outcome for what the agent says now, or None while the task is still going."""
    if view.is_message:
        return Outcome("Succeeded", view.text or "agent replied with an empty message")
    if view.state == "completed":
        return Outcome("Succeeded", view.text or "task completed")
    if view.state in _STATE_WORDS:
        words = _STATE_WORDS[view.state]
        return Outcome("Failed", f"{words}: {view.text}" if view.text else words)
    return None


def timeout_outcome(timeout: timedelta, cancel_note: str) -> Outcome:
    return Outcome("Timeout", f"no result within {_human(timeout)}; {cancel_note}")


def _human(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0s"


@dataclass(frozen=True)
class DispatchVerdict:
    """What to do after a failed send: try again (after a delay), or stop with this outcome."""

    retry: bool
    outcome: Outcome | None = None
    check_first: bool = False  # the agent may have the message: look for its task before resending


def judge_dispatch_error(error: A2AError, attempt: int, max_attempts: int) -> DispatchVerdict:
    """Retry only failures from before the agent answered, and only `max_attempts` times.

    Unreachable: nothing was delivered. HTTP 5xx/408/429 or a body that is not JSON-RPC: a
    proxy or a broken agent answered; the message may have arrived, so look for its task first
    (1.0 can list a context's tasks). A JSON-RPC error or another HTTP 4xx is the agent's
    definite answer. No answer in time: the agent may be working on it; never resend.
    """
    final = Outcome("DispatchFailed", str(error))
    if isinstance(error, RpcError | NoAnswer):
        return DispatchVerdict(retry=False, outcome=final)
    if isinstance(error, BadAnswer):
        code = error.status_code
        if code is not None and code < 500 and code not in (408, 429):
            return DispatchVerdict(retry=False, outcome=final)
    last = attempt >= max_attempts
    if last:
        return DispatchVerdict(
            retry=False,
            outcome=Outcome("DispatchFailed", f"{error} (after {attempt} attempts)"),
        )
    return DispatchVerdict(retry=True, check_first=not isinstance(error, Unreachable))


def backoff_delays(first: float, factor: float, cap: float) -> Iterator[float]:
    """first, first*factor, ... capped at `cap`, forever."""
    delay = first
    while True:
        yield min(delay, cap)
        delay *= factor


# Polling while no stream is open: first look after 0.5 s (short tasks end soon after they
# start), then every second. Requests land at 0.5, 1.5, 2.5 s...: the n-th comes n - 0.5 s into
# the wait (one a second on average) and a task's end is seen 0.5 s after it (median).
POLL_FIRST = 0.5
POLL_FACTOR = 2.0
POLL_CAP = 1.0


def poll_delays() -> Iterator[float]:
    return backoff_delays(POLL_FIRST, POLL_FACTOR, POLL_CAP)
