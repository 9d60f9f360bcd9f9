"""runner.lifecycle: the pure decisions of one run (ids, trigger, resume step, outcome of a task
state, retry verdicts, exit codes, deadlines, polling). No I/O; the run itself is in
test_runner_run.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import pytest

from runner import api, lifecycle
from runner.a2a import (
    A2AError,
    BadAnswer,
    CredentialError,
    NoAnswer,
    RpcError,
    TaskView,
    Unreachable,
)
from runner.lifecycle import Outcome


def test_ids_are_stable_per_job_uid_and_distinct() -> None:
    first = lifecycle.derive_ids("0b6a5b8e-1111-4a4a-9e9e-000000000001")
    again = lifecycle.derive_ids("0b6a5b8e-1111-4a4a-9e9e-000000000001")
    other = lifecycle.derive_ids("0b6a5b8e-1111-4a4a-9e9e-000000000002")
    assert first == again
    assert first[0] != first[1]
    assert set(first).isdisjoint(other)
    assert all(uuid.UUID(i).version == 5 for i in first)


@pytest.mark.parametrize(
    ("annotations", "trigger", "scheduled"),
    [
        pytest.param(
            {api.ANNOTATION_SCHEDULED_TIME: "2026-03-01T12:00:00Z"},
            "Scheduled",
            datetime(2026, 3, 1, 12, tzinfo=UTC),
            id="cronjob-tick",
        ),
        pytest.param(
            {
                api.ANNOTATION_INSTANTIATE: "manual",
                api.ANNOTATION_SCHEDULED_TIME: "2026-03-01T12:00:00Z",
            },
            "Manual",
            None,
            id="kubectl-create-job-from",
        ),
        pytest.param({}, "Scheduled", None, id="no-annotations"),
        pytest.param(
            {api.ANNOTATION_SCHEDULED_TIME: "garbage"}, "Scheduled", None, id="unreadable-time"
        ),
    ],
)
def test_trigger_and_scheduled_time(
    annotations: dict[str, str], trigger: str, scheduled: datetime | None
) -> None:
    got = lifecycle.trigger_of(annotations)
    assert got == trigger
    assert lifecycle.scheduled_time_of(annotations, got) == scheduled


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param("Agent", "http://k:8083/api/a2a/ns/bot/", id="agent"),
        pytest.param("SandboxAgent", "http://k:8083/api/a2a-sandboxes/ns/bot/", id="sandbox-agent"),
    ],
)
def test_each_target_kind_is_reached_at_its_kagent_a2a_path(kind: str, expected: str) -> None:
    assert lifecycle.agent_url("http://k:8083/", kind, "ns", "bot") == expected


@pytest.mark.parametrize(
    ("kind", "name", "words"),
    [
        pytest.param("Deployment", "bot", "not Agent or SandboxAgent", id="other-kind"),
        pytest.param("Agent", "", "targetRef.name is empty", id="no-name"),
    ],
)
def test_agent_url_rejects_a_bad_target(kind: str, name: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        lifecycle.agent_url("http://k", kind, "ns", name)


@pytest.mark.parametrize(
    ("entry", "step"),
    [
        pytest.param(None, "start", id="no-entry-start"),
        pytest.param({"status": "Succeeded"}, "done", id="terminal-done"),
        pytest.param({"status": "DispatchFailed"}, "done", id="dispatch-failed-done"),
        pytest.param(
            {"status": "Pending", "taskID": "t1"}, "follow", id="pending-with-task-follow"
        ),
        pytest.param({"status": "Pending"}, "resolve", id="pending-without-task-resolve"),
        pytest.param({"status": "Pending", "taskID": ""}, "resolve", id="empty-task-id-resolve"),
    ],
)
def test_a_runner_resumes_where_its_jobs_entry_stands(
    entry: dict[str, Any] | None, step: str
) -> None:
    assert lifecycle.step_for(entry) == step


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param("Succeeded", api.EXIT_SUCCEEDED, id="succeeded"),
        pytest.param("Failed", api.EXIT_FINAL_FAILURE, id="failed"),
        pytest.param("Timeout", api.EXIT_FINAL_FAILURE, id="timeout"),
        pytest.param("DispatchFailed", api.EXIT_FINAL_FAILURE, id="dispatch-failed"),
        pytest.param("Pending", api.EXIT_RETRY, id="unfinished"),
    ],
)
def test_only_success_exits_zero_and_only_an_unfinished_run_is_retried(
    status: str, code: int
) -> None:
    assert lifecycle.exit_code(status) == code


def test_deadline_counts_from_the_entry_start_not_from_now() -> None:
    entry = {"startTime": "2026-03-01T12:00:00Z"}
    now = datetime(2026, 3, 1, 12, 10, tzinfo=UTC)
    assert lifecycle.deadline_of(entry, timedelta(minutes=15), now) == datetime(
        2026, 3, 1, 12, 15, tzinfo=UTC
    )


def view(state: str, text: str = "", is_message: bool = False) -> TaskView:
    return TaskView("t", "c", state, text, is_message)


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        pytest.param(
            view("completed", "the report"), Outcome("Succeeded", "the report"), id="completed"
        ),
        pytest.param(
            view("completed"), Outcome("Succeeded", "task completed"), id="completed-silent"
        ),
        pytest.param(view("completed", "hi", True), Outcome("Succeeded", "hi"), id="plain-message"),
        pytest.param(view("failed", "boom"), Outcome("Failed", "task failed: boom"), id="failed"),
        pytest.param(view("rejected", "no"), Outcome("Failed", "task rejected: no"), id="rejected"),
        pytest.param(
            view("canceled"), Outcome("Failed", "task canceled"), id="canceled-by-someone"
        ),
        pytest.param(
            view("input-required", "approve?"),
            Outcome(
                "Failed",
                "agent needs input (input-required), and a scheduled run has no one to ask:"
                " approve?",
            ),
            id="input-required",
        ),
        pytest.param(
            view("auth-required"),
            Outcome(
                "Failed",
                "agent needs authentication (auth-required), and a scheduled run has no one to ask",
            ),
            id="auth-required",
        ),
        pytest.param(view("working"), None, id="working"),
        pytest.param(view("submitted"), None, id="submitted"),
        pytest.param(view("unknown"), None, id="unknown"),
    ],
)
def test_a_final_task_state_is_the_runs_outcome_and_a_live_one_none(
    task: TaskView, expected: Outcome | None
) -> None:
    assert lifecycle.outcome_of(task) == expected


def test_timeout_outcome_names_the_timeout_and_the_cancel() -> None:
    got = lifecycle.timeout_outcome(timedelta(hours=1, minutes=30), "the task was cancelled")
    assert got == Outcome("Timeout", "no result within 1h30m; the task was cancelled")


@pytest.mark.parametrize(
    ("error", "attempt", "action", "resend_if_none", "status"),
    [
        # Provably never reached the agent: the only failure sent again without asking.
        pytest.param(Unreachable("refused"), 1, "resend", False, None, id="unreachable-resends"),
        pytest.param(
            Unreachable("refused"), 4, "stop", False, "DispatchFailed", id="unreachable-last"
        ),
        # Uncertain: look the task up; a positive "none" allows another send.
        pytest.param(BadAnswer("HTTP 502", 502), 1, "look-up", True, None, id="502-looks-up"),
        pytest.param(BadAnswer("HTTP 502", 502), 4, "look-up", False, None, id="502-last"),
        pytest.param(BadAnswer("not JSON"), 2, "look-up", True, None, id="non-json-looks-up"),
        pytest.param(BadAnswer("HTTP 429", 429), 1, "look-up", True, None, id="429-looks-up"),
        pytest.param(BadAnswer("HTTP 307", 307), 1, "look-up", True, None, id="redirect"),
        pytest.param(BadAnswer("dropped"), 1, "look-up", True, None, id="dropped-after-send"),
        # No answer in time: the agent may still be taking it; never sent again.
        pytest.param(NoAnswer("slow"), 1, "look-up", False, None, id="no-answer-never-resent"),
        # A definite refusal.
        pytest.param(BadAnswer("HTTP 404", 404), 1, "stop", False, "DispatchFailed", id="404"),
        pytest.param(BadAnswer("HTTP 401", 401), 1, "stop", False, "DispatchFailed", id="401"),
        pytest.param(RpcError(-32603, "x"), 1, "stop", False, "DispatchFailed", id="rpc-error"),
        pytest.param(CredentialError("no file"), 1, "stop", False, "DispatchFailed", id="token"),
    ],
)
def test_a_dispatch_error_is_resent_looked_up_or_final_by_kind_and_attempt(
    error: A2AError, attempt: int, action: str, resend_if_none: bool, status: str | None
) -> None:
    verdict = lifecycle.judge_dispatch_error(error, attempt, 4)
    assert (verdict.action, verdict.resend_if_none) == (action, resend_if_none)
    assert (verdict.outcome.status if verdict.outcome else None) == status
    if verdict.outcome:
        assert str(error) in verdict.outcome.message


@pytest.mark.parametrize(
    ("lookup", "words"),
    [
        pytest.param(lifecycle.Lookup(none=True), "lists no task of this run's context", id="none"),
        pytest.param(
            lifecycle.Lookup(why_unknown="looking the task up failed (-31401)"), "-31401", id="fail"
        ),
    ],
)
def test_uncertain_outcome_says_delivery_is_uncertain(lookup: lifecycle.Lookup, words: str) -> None:
    got = lifecycle.uncertain_outcome("HTTP 502 from the agent", lookup)
    assert got.status == "DispatchFailed"
    assert got.message.startswith("delivery uncertain after HTTP 502 from the agent: ")
    assert words in got.message
    assert "not sent again" in got.message


def test_job_deadline_passed() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    job = {"spec": {"activeDeadlineSeconds": 60}, "status": {"startTime": "2026-01-01T11:59:00Z"}}
    assert lifecycle.job_deadline_passed(job, now)
    assert not lifecycle.job_deadline_passed(job, now - timedelta(seconds=10))
    exceeded = {"status": {"conditions": [{"type": "Failed", "reason": "DeadlineExceeded"}]}}
    assert lifecycle.job_deadline_passed(exceeded, now)
    assert not lifecycle.job_deadline_passed({}, now)


def test_polling_never_averages_more_than_one_request_a_second() -> None:
    delays = list(islice(lifecycle.poll_delays(), 50))
    instants = [sum(delays[: n + 1]) for n in range(len(delays))]
    assert delays[0] <= 0.5  # a short task is seen soon
    # the n-th look comes at least n - 0.5 s into the wait: one a second, on average
    assert all(count <= at + 0.5 for count, at in enumerate(instants, start=1))
    assert max(delays) == 1.0  # and a long one within a second
