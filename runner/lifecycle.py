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
from runner.a2a import (
    A2AError,
    BadAnswer,
    CredentialError,
    Misbehaved,
    NoAnswer,
    RpcError,
    TaskView,
    Unreachable,
)

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


def job_deadline_passed(job: Mapping[str, Any], now: datetime, slack: float = 2.0) -> bool:
    """Whether the Job is past its activeDeadlineSeconds (Kubernetes then stops its pods)."""
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("reason") == "DeadlineExceeded":
            return True
    seconds = (job.get("spec") or {}).get("activeDeadlineSeconds")
    started = history.parse_time(status.get("startTime"))
    if not isinstance(seconds, int) or started is None:
        return False
    return now + timedelta(seconds=slack) >= started + timedelta(seconds=seconds)


def job_time_left(job: Mapping[str, Any], now: datetime) -> float | None:
    """Seconds until Kubernetes stops the Job's pods (its activeDeadlineSeconds from its
    start), None when the Job says no deadline or no start."""
    seconds = (job.get("spec") or {}).get("activeDeadlineSeconds")
    started = history.parse_time((job.get("status") or {}).get("startTime"))
    if not isinstance(seconds, int) or started is None:
        return None
    return (started + timedelta(seconds=seconds) - now).total_seconds()


def delivery_budget(budget: float, job_left: float | None, cap: float | None = None) -> float:
    """Seconds one destination's delivery may take: its own budget, within what is left before
    the Job's deadline (less 5 s to record the result) and the stop budget after a SIGTERM;
    at least 1 s, so there is always one attempt."""
    limits = [budget]
    if job_left is not None:
        limits.append(job_left - 5.0)
    if cap is not None:
        limits.append(cap)
    return max(1.0, min(limits))


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


# The delivery rule. A send is repeated only when it provably never reached the agent, or when
# an authenticated lookup positively says that the run's context has no task. Provably not
# reached (`Unreachable`): the TCP connection was refused or timed out, the name did not
# resolve, or the TLS handshake failed, all before the first byte of the request was written.
# A definite refusal (a JSON-RPC error, HTTP 4xx other than 408/429, unreadable credentials)
# stops at once. Everything else (HTTP 5xx/408/429, a redirect, a body that is not JSON-RPC,
# a connection dropped after the request went out, no answer in time) is uncertain: the agent
# may have the message. Then the run looks for its task: found, it is followed; not found by an
# authenticated lookup, the message is sent again (except after no answer in time, when the
# agent may still be taking it); the lookup unable to tell (0.3 has no list call, the call
# failed, no identity), the run ends DispatchFailed saying delivery is uncertain.

DispatchAction = Literal["resend", "look-up", "stop"]


@dataclass(frozen=True)
class DispatchVerdict:
    """What to do after a failed send: send again (after a delay), look for the run's task
    (delivery uncertain), or stop with `outcome`."""

    action: DispatchAction
    outcome: Outcome | None = None
    resend_if_none: bool = False  # look-up: a positive "no task" allows one more send


def judge_dispatch_error(error: A2AError, attempt: int, max_attempts: int) -> DispatchVerdict:
    """The delivery rule for one failed send (see above); at most `max_attempts` sends."""
    if isinstance(error, Misbehaved):  # an HTTP answer came: it may hold the message, never resend
        why = f"{error}; the request was answered, so the message is not sent again"
        return DispatchVerdict("stop", Outcome("DispatchFailed", why))
    if isinstance(error, RpcError | CredentialError):
        return DispatchVerdict("stop", Outcome("DispatchFailed", str(error)))
    if isinstance(error, BadAnswer):
        code = error.status_code
        if code is not None and 400 <= code < 500 and code not in (408, 429):
            return DispatchVerdict("stop", Outcome("DispatchFailed", str(error)))
    if isinstance(error, Unreachable):
        if attempt >= max_attempts:
            return DispatchVerdict(
                "stop",
                Outcome("DispatchFailed", f"{error} (after {attempt} attempts; never delivered)"),
            )
        return DispatchVerdict("resend")
    resend = not isinstance(error, NoAnswer) and attempt < max_attempts
    return DispatchVerdict("look-up", resend_if_none=resend)


@dataclass(frozen=True)
class Lookup:
    """What the agent said when asked for the run's task (1.0 ListTasks by the run's context)."""

    task: TaskView | None = None  # found: follow it
    none: bool = False  # an authenticated list came back without a task of this context
    why_unknown: str = ""  # neither: why the lookup cannot tell


def uncertain_outcome(error: str, lookup: Lookup, after_restart: bool = False) -> Outcome:
    """DispatchFailed when delivery cannot be settled: the message may or may not have arrived."""
    what = "after a restart" if after_restart else f"after {error}"
    known = (
        "the agent lists no task of this run's context yet"
        if lookup.none
        else lookup.why_unknown or "the run's task could not be looked up"
    )
    return Outcome(
        "DispatchFailed",
        f"delivery uncertain {what}: {known}; not sent again, so the agent may or may not be"
        " working on it",
    )


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
