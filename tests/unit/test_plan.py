"""generator.reconcile: the desired CronJob, status, event and next look for one ScheduledRun, and
the orphan-sweep decisions, with a fixed clock.

Pure functions only. That kopf delivers the events and the apiserver accepts the writes is
tests/integration/test_operator.py's job; the I/O around a plan is test_controller.py's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from generator.cronjob.config import OperatorConfig
from generator.operator import plan, sweep
from generator.operator.plan import CronJobState, Observed
from generator.operator.sweep import JobState, Resolution
from runner import api
from runner.conditions import Reason
from tests import builders

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
SETTINGS = OperatorConfig(runner_image="example.com/runner:1")
UID = "0b6c6a4e-1111-4c3e-9a55-6a7d2b1c0e9f"


def scheduledrun(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return builders.scheduledrun(
        uid=UID,
        generation=4,
        metadata={"creationTimestamp": "2026-03-01T11:00:00Z"},
        api_group="kagent.dev",
        status=status or {},
        **{"schedule": "*/15 * * * *", **spec},
    )


def desired_hash(sr: dict[str, Any], accepted: bool = True) -> str:
    verdict = plan.Verdict(
        accepted, Reason("ScheduleAccepted" if accepted else "TargetNotFound"), ""
    )
    body = plan.desired_cronjob(sr, SETTINGS, verdict)
    assert body is not None
    return str(body["metadata"]["annotations"][api.ANNOTATION_SPEC_HASH])


def converged(sr: dict[str, Any], suspended: bool = False) -> dict[str, Any]:
    """`sr` with the status and CronJob that a previous reconcile at NOW left."""
    first = plan.make_plan(sr, SETTINGS, Observed(NOW, True, None))
    assert first.status_patch is not None
    return {**sr, "status": {**sr["status"], **first.status_patch["status"]}}


def test_new_scheduledrun_gets_its_cronjob_and_accepted_status() -> None:
    got = plan.make_plan(scheduledrun(), SETTINGS, Observed(NOW, True, None))

    assert got.write_cronjob is not None
    assert (
        got.write_cronjob["metadata"]["name"],
        got.write_cronjob["spec"]["suspend"],
    ) == (
        "nightly",
        False,
    )
    assert got.status_patch is not None
    status = got.status_patch["status"]
    assert status["conditions"] == [
        {
            "type": "Accepted",
            "status": "True",
            "reason": "ScheduleAccepted",
            "message": "CronJob nightly carries the schedule",
            "lastTransitionTime": "2026-03-01T12:00:30Z",
            "observedGeneration": 4,
        }
    ]
    assert (status["observedGeneration"], status["cronJobName"], status["nextRunTime"]) == (
        4,
        "nightly",
        "2026-03-01T12:15:00Z",
    )
    assert got.event is None  # a first acceptance is told by the status alone
    assert got.look_again_at == datetime(2026, 3, 1, 12, 15, 1, tzinfo=UTC)
    assert got.active


def test_nothing_changed_means_no_writes() -> None:
    sr = converged(scheduledrun())
    cronjob = CronJobState("nightly", desired_hash(sr), suspended=False, owner_uid=UID)

    got = plan.make_plan(sr, SETTINGS, Observed(NOW + timedelta(minutes=5), True, cronjob))

    assert (
        got.write_cronjob,
        got.suspend_cronjob,
        got.status_patch,
        got.event,
    ) == (
        None,
        None,
        None,
        None,
    )


def test_after_a_tick_only_next_run_time_moves() -> None:
    sr = converged(scheduledrun())
    cronjob = CronJobState("nightly", desired_hash(sr), suspended=False, owner_uid=UID)

    got = plan.make_plan(sr, SETTINGS, Observed(NOW + timedelta(minutes=15), True, cronjob))

    assert got.status_patch == {"status": {"nextRunTime": "2026-03-01T12:30:00Z"}}
    assert got.write_cronjob is None


@pytest.mark.parametrize(
    ("spec", "target_exists", "cronjob", "expected"),
    [
        pytest.param(
            {"suspend": True}, True, None, ("ScheduleAccepted", True, None, False), id="suspended"
        ),
        pytest.param(
            {}, False, None, ("TargetNotFound", True, None, False), id="target-missing-suspends"
        ),
        pytest.param(
            {"schedule": "61 * * * *"},
            True,
            CronJobState("nightly", "old", suspended=False, owner_uid=UID),
            ("InvalidSchedule", None, "nightly", False),
            id="invalid-schedule-suspends-existing-cronjob",
        ),
        pytest.param(
            {"schedule": "61 * * * *"},
            True,
            CronJobState("nightly", "old", suspended=True, owner_uid=UID),
            ("InvalidSchedule", None, None, False),
            id="invalid-schedule-already-suspended",
        ),
        pytest.param(
            {"timeZone": "Mars/Olympus"},
            True,
            None,
            ("InvalidTimeZone", None, None, False),
            id="unknown-time-zone-creates-nothing",
        ),
        pytest.param(
            {"targetRef": {"apiGroup": "kagent.dev", "kind": "Pod", "name": "x"}},
            True,
            None,
            ("InvalidTargetRef", None, None, False),
            id="wrong-target-kind",
        ),
        pytest.param({}, True, None, ("ScheduleAccepted", False, None, True), id="accepted-fires"),
    ],
)
def test_what_fires_and_what_is_suspended(
    spec: dict[str, Any],
    target_exists: bool,
    cronjob: CronJobState | None,
    expected: tuple[str, bool | None, str | None, bool],
) -> None:
    got = plan.make_plan(scheduledrun(**spec), SETTINGS, Observed(NOW, target_exists, cronjob))

    applied_suspend = None if got.write_cronjob is None else got.write_cronjob["spec"]["suspend"]
    assert (
        got.verdict.reason,
        applied_suspend,
        got.suspend_cronjob,
        got.active,
    ) == expected
    assert got.status_patch is not None
    next_run = got.status_patch["status"].get("nextRunTime")
    assert (next_run is not None) == got.active


@pytest.mark.parametrize(
    ("previous", "target_exists", "expected"),
    [
        pytest.param(None, False, ("Warning", "TargetNotFound"), id="first-rejection-is-told"),
        pytest.param(
            ("True", "ScheduleAccepted"), False, ("Warning", "TargetNotFound"), id="target-gone"
        ),
        pytest.param(
            ("False", "TargetNotFound"), True, ("Normal", "ScheduleAccepted"), id="target-back"
        ),
        pytest.param(("False", "TargetNotFound"), False, None, id="still-missing-is-quiet"),
        pytest.param(("True", "ScheduleAccepted"), True, None, id="still-accepted-is-quiet"),
    ],
)
def test_events_on_transitions_only(
    previous: tuple[str, str] | None, target_exists: bool, expected: tuple[str, str] | None
) -> None:
    status = {}
    if previous is not None:
        condition = {"type": "Accepted", "status": previous[0], "reason": previous[1]}
        status = {"conditions": [condition]}
    decided = plan.make_plan(scheduledrun(status), SETTINGS, Observed(NOW, target_exists, None))

    got = None if decided.event is None else (decided.event.type, decided.event.reason)
    assert got == expected


@pytest.mark.parametrize(
    ("previous", "reason", "expected_time"),
    [
        pytest.param("False", "InvalidTimeZone", "2026-01-01T00:00:00Z", id="same-status-keeps"),
        pytest.param("True", "InvalidTimeZone", "2026-03-01T12:00:30Z", id="flip-moves"),
    ],
)
def test_transition_time_moves_only_with_the_status(
    previous: str, reason: str, expected_time: str
) -> None:
    old = {
        "type": "Accepted",
        "status": previous,
        "reason": "TargetNotFound",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    sr = scheduledrun({"conditions": [old]}, timeZone="Mars/Olympus")

    got = plan.make_plan(sr, SETTINGS, Observed(NOW, True, None))

    assert got.status_patch is not None
    (condition,) = got.status_patch["status"]["conditions"]
    assert (condition["reason"], condition["lastTransitionTime"]) == (reason, expected_time)


def test_suspending_keeps_the_cronjob_and_drops_next_run_time() -> None:
    sr = converged(scheduledrun())
    sr["spec"]["suspend"] = True
    cronjob = CronJobState("nightly", "hash-of-unsuspended", suspended=False, owner_uid=UID)

    got = plan.make_plan(sr, SETTINGS, Observed(NOW, True, cronjob))

    assert got.write_cronjob is not None
    assert got.write_cronjob["spec"]["suspend"] is True
    assert got.status_patch == {"status": {"nextRunTime": None, "suspended": True}}


def test_a_cronjob_edited_by_hand_is_put_back() -> None:
    sr = converged(scheduledrun())
    cronjob = CronJobState("nightly", desired_hash(sr), suspended=True, owner_uid=UID)

    got = plan.make_plan(sr, SETTINGS, Observed(NOW, True, cronjob))

    assert got.write_cronjob is not None
    assert got.write_cronjob["spec"]["suspend"] is False


def test_other_conditions_are_kept() -> None:
    other = {"type": "Ready", "status": "True", "reason": "X", "message": ""}
    got = plan.make_plan(scheduledrun({"conditions": [other]}), SETTINGS, Observed(NOW, True, None))

    assert got.status_patch is not None
    assert [c["type"] for c in got.status_patch["status"]["conditions"]] == [
        "Ready",
        "Accepted",
    ]


@pytest.mark.parametrize(
    ("schedule", "cronjob", "expected"),
    [
        pytest.param("0 0 31 2 *", None, None, id="never-fires"),
        pytest.param("@hourly", None, datetime(2026, 3, 1, 13, tzinfo=UTC), id="macro"),
        pytest.param(
            "@every 7m",
            CronJobState("nightly", None, False, "2026-03-01T11:58:00Z", UID),
            datetime(2026, 3, 1, 12, 5, tzinfo=UTC),
            id="every-counts-from-cronjob-creation",
        ),
        pytest.param(
            "@every 1h",
            None,
            datetime(2026, 3, 1, 13, tzinfo=UTC),
            id="every-without-cronjob-counts-from-scheduledrun",
        ),
    ],
)
def test_next_run_time_is_the_next_tick_as_the_cronjob_counts_it(
    schedule: str, cronjob: CronJobState | None, expected: datetime | None
) -> None:
    assert plan.next_run_time(scheduledrun(schedule=schedule), NOW, cronjob) == expected


def test_a_schedule_that_never_fires_is_looked_at_again_after_the_resync() -> None:
    got = plan.make_plan(scheduledrun(schedule="0 0 31 2 *"), SETTINGS, Observed(NOW, True, None))

    assert got.look_again_at == NOW + plan.RESYNC


def job(name: str, **conditions: tuple[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "status": {
            "conditions": [
                {"type": t, "status": "True", "reason": r, "message": m}
                for t, (r, m) in conditions.items()
            ]
        },
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(job("j1"), JobState("j1"), id="running"),
        pytest.param(
            job("j1", Failed=("DeadlineExceeded", "Job was active longer than specified")),
            JobState("j1", "DeadlineExceeded", "Job was active longer than specified"),
            id="deadline",
        ),
        pytest.param(job("j1", Complete=("", "")), JobState("j1", complete=True), id="complete"),
    ],
)
def test_a_jobs_failed_or_complete_condition_is_read_with_its_reason(
    body: dict[str, Any], expected: JobState
) -> None:
    assert sweep.job_state(body) == expected


HISTORY = [
    {"id": "run-3", "status": "Pending", "startTime": "2026-03-01T11:45:00Z"},
    {"id": "run-2", "status": "Succeeded", "startTime": "2026-03-01T11:30:00Z"},
    {"id": "run-1", "status": "Pending", "startTime": "2026-03-01T11:15:00Z"},
]


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        pytest.param(
            {"run-3": JobState("run-3"), "run-1": JobState("run-1")}, [], id="all-running"
        ),
        pytest.param(
            {
                "run-3": JobState("run-3"),
                "run-1": JobState("run-1", "DeadlineExceeded", "Job was active longer"),
            },
            [Resolution("run-1", "Timeout", "DeadlineExceeded: Job was active longer", False)],
            id="deadline-is-timeout",
        ),
        pytest.param(
            {"run-3": JobState("run-3", "BackoffLimitExceeded", "Job has reached the limit")},
            [
                Resolution(
                    "run-3", "Failed", "BackoffLimitExceeded: Job has reached the limit", False
                ),
                Resolution("run-1", "Failed", sweep.JOB_GONE_MESSAGE, True),
            ],
            id="backoff-fails-and-missing-job-is-gone",
        ),
        pytest.param(
            {"run-3": JobState("run-3", "PodFailurePolicy", ""), "run-1": JobState("run-1")},
            [Resolution("run-3", "Failed", "PodFailurePolicy", False)],
            id="pod-failure-policy",
        ),
        pytest.param(
            {"run-3": JobState("run-3", complete=True), "run-1": JobState("run-1")},
            [
                Resolution(
                    "run-3", "Failed", "job completed but the runner recorded no outcome", False
                )
            ],
            id="complete-but-pending",
        ),
    ],
)
def test_a_pending_entry_ends_when_its_job_failed_completed_or_is_gone(
    jobs: dict[str, JobState], expected: list[Resolution]
) -> None:
    assert sweep.pending_resolutions(HISTORY, jobs) == expected


def test_resolve_ends_the_entry_and_updates_last_run() -> None:
    status = {"runHistory": HISTORY[:2], "lastRunStatus": "Pending"}
    resolution = Resolution("run-3", "Timeout", "DeadlineExceeded", False)

    fields = sweep.resolve(status, [resolution], NOW)

    assert fields is not None
    newest = fields["runHistory"][0]
    assert (newest["id"], newest["status"], newest["endTime"], fields["lastRunStatus"]) == (
        "run-3",
        "Timeout",
        "2026-03-01T12:00:30Z",
        "Timeout",
    )
    assert [e["id"] for e in fields["runHistory"]] == ["run-3", "run-2"]


def test_resolve_leaves_an_entry_the_runner_already_finished() -> None:
    status = {"runHistory": [{"id": "run-3", "status": "Succeeded"}]}

    assert sweep.resolve(status, [Resolution("run-3", "Failed", "x", True)], NOW) is None


def test_a_cached_hash_answers_without_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = plan.HashCache()
    sr = scheduledrun()
    first = plan.make_plan(sr, SETTINGS, Observed(NOW, True, None), cache)
    assert first.write_cronjob is not None
    applied = first.write_cronjob["metadata"]
    cronjob = CronJobState(
        applied["name"], applied["annotations"][api.ANNOTATION_SPEC_HASH], False, owner_uid=UID
    )
    checked = plan.make_plan(sr, SETTINGS, Observed(NOW, True, cronjob), cache)
    assert checked.write_cronjob is None  # rendered once more, found in step
    plan.remember(cache, checked, cronjob)  # as the controller does once the plan is carried out

    def no_render(*_: Any) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(plan, "desired_cronjob", no_render)
    again = plan.make_plan(sr, SETTINGS, Observed(NOW, True, cronjob), cache)

    assert again.write_cronjob is None
    assert again.status_patch == first.status_patch


@pytest.mark.parametrize(
    ("change", "target_exists"),
    [
        pytest.param({"schedule": "0 1 * * *"}, True, id="spec-edit"),
        pytest.param({}, False, id="target-gone"),
    ],
)
def test_a_change_misses_the_cache(change: dict[str, Any], target_exists: bool) -> None:
    cache = plan.HashCache()
    sr = scheduledrun()
    first = plan.make_plan(sr, SETTINGS, Observed(NOW, True, None), cache)
    assert first.write_cronjob is not None
    applied = first.write_cronjob["metadata"]
    cronjob = CronJobState(
        applied["name"], applied["annotations"][api.ANNOTATION_SPEC_HASH], False, owner_uid=UID
    )
    sr["spec"].update(change)
    sr["metadata"]["generation"] += 1 if change else 0

    again = plan.make_plan(sr, SETTINGS, Observed(NOW, target_exists, cronjob), cache)

    assert again.write_cronjob is not None


def test_the_hash_cache_is_bounded() -> None:
    cache = plan.HashCache(size=2)
    for key in ("a", "b", "c"):
        cache.put(key, key.upper())

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, "B", "C")


def test_a_rejected_cronjob_makes_the_spec_invalid_and_suspends_the_existing_one() -> None:
    cronjob = CronJobState("nightly", "h", suspended=False, owner_uid=UID)

    got = plan.make_plan(
        scheduledrun(), SETTINGS, Observed(NOW, True, cronjob, rejected="422: spec.schedule")
    )

    assert (got.verdict.reason, got.write_cronjob, got.suspend_cronjob) == (
        "InvalidSpec",
        None,
        "nightly",
    )
    assert got.verdict.message == "the CronJob was rejected: 422: spec.schedule"


@pytest.mark.parametrize(
    "owner",
    [
        pytest.param("uid-of-another-scheduledrun", id="controlled-by-another"),
        pytest.param(None, id="controlled-by-nothing"),
    ],
)
def test_a_cronjob_this_scheduledrun_does_not_control_is_left_alone(owner: str | None) -> None:
    cronjob = CronJobState("nightly", "h", suspended=False, owner_uid=owner)

    got = plan.make_plan(scheduledrun(), SETTINGS, Observed(NOW, True, cronjob))

    assert (got.verdict.accepted, got.verdict.reason) == (False, "CronJobConflict")
    assert (got.write_cronjob, got.suspend_cronjob, got.active) == (None, None, False)
    assert got.status_patch is not None
    assert got.status_patch["status"].get("cronJobName") is None
    assert got.event == plan.Event("Warning", "CronJobConflict", got.verdict.message)
    assert got.look_again_at == NOW + plan.CONFLICT_RECHECK


def test_an_invalid_spec_does_not_suspend_a_cronjob_it_does_not_control() -> None:
    cronjob = CronJobState("nightly", "h", suspended=False, owner_uid="someone-else")

    got = plan.make_plan(scheduledrun(schedule="bad"), SETTINGS, Observed(NOW, True, cronjob))

    assert (got.verdict.reason, got.suspend_cronjob) == ("InvalidSchedule", None)


def test_a_foreign_runner_rolebinding_suspends_the_schedule_and_says_why() -> None:
    got = plan.make_plan(
        scheduledrun(), SETTINGS, Observed(NOW, True, None, access_conflict="bound elsewhere")
    )

    assert (got.verdict.reason, got.verdict.message) == ("RunnerAccessConflict", "bound elsewhere")
    assert got.write_cronjob is not None
    assert got.write_cronjob["spec"]["suspend"] is True
