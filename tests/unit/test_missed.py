"""Missed runs (generator/operator/missed.py) and what a plan writes for them: each tick judged
started, Skipped (the CronJob controller moved past it without a Job), DeadlineExceeded (not
started within startingDeadlineSeconds) or undecided, as a named table with fixed instants; the
status counter, event and next look of a plan that finds some. The operator and a starved
controller on a real control plane are tests/integration/test_missed_runs.py's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from generator.cronjob.config import OperatorConfig
from generator.operator import missed, plan
from generator.operator.missed import Judgement, Missed, MissReason
from generator.operator.plan import CronJobState, Observed
from tests import builders


def at(minute: int, second: int = 0) -> datetime:
    return datetime(2026, 6, 1, 9, minute, second, tzinfo=UTC)


SKIPPED, LATE = MissReason.SKIPPED, MissReason.DEADLINE_EXCEEDED


@pytest.mark.parametrize(
    ("now", "last", "deadline", "started", "expected"),
    [
        pytest.param(
            at(3, 30), at(3), None, {at(1), at(2), at(3)}, Judgement((), at(3), None, at(4)),
            id="every-tick-has-its-job",
        ),
        pytest.param(
            at(3, 30), at(3), None, {at(3)},
            Judgement((Missed(at(1), SKIPPED), Missed(at(2), SKIPPED)), at(3), None, at(4)),
            id="controller-caught-up-with-the-newest-only",
        ),
        pytest.param(
            at(3, 30), at(1), None, {at(1)}, Judgement((), at(1), at(2)),
            id="behind-and-no-deadline-undecided",
        ),
        pytest.param(
            at(3, 12), at(1), 10, {at(1)},
            Judgement((Missed(at(2), LATE),), at(2), at(3)),
            id="past-the-deadline-then-undecided-within-it",
        ),
        pytest.param(
            at(1, 14), None, 10, set(), Judgement((), at(0), at(1)),
            id="deadline-has-a-few-seconds-slack",
        ),
        pytest.param(
            at(1, 16), None, 10, set(), Judgement((Missed(at(1), LATE),), at(1), None, at(2)),
            id="never-scheduled-past-the-deadline",
        ),
    ],
)  # fmt: skip
def test_each_tick_is_judged_once(
    now: datetime,
    last: datetime | None,
    deadline: int | None,
    started: set[datetime],
    expected: Judgement,
) -> None:
    assert missed.judge("* * * * *", "UTC", at(0), now, last, deadline, started) == expected


def test_a_known_next_tick_in_the_future_needs_no_search() -> None:
    got = missed.judge("61 * * * *", "UTC", at(0), at(0, 30), None, None, set(), at(1))
    assert got == Judgement((), at(0), None, at(1))  # an unreadable schedule was never parsed


def test_every_schedules_are_not_judged() -> None:
    assert missed.judge("@every 1m", "UTC", at(0), at(5), None, 10, set()) == Judgement((), at(5))


def test_the_event_names_the_times_and_why() -> None:
    found = (*tuple(Missed(at(m), SKIPPED) for m in range(7)), Missed(at(7), LATE))
    assert missed.describe(found) == (
        "8 scheduled runs did not start: 2026-06-01T09:03:00Z, 2026-06-01T09:04:00Z,"
        " 2026-06-01T09:05:00Z, 2026-06-01T09:06:00Z, 2026-06-01T09:07:00Z (and 3 earlier)"
        " (DeadlineExceeded: not started within startingDeadlineSeconds; Skipped: the CronJob"
        " controller moved past it without a Job (it fell behind, or concurrencyPolicy Forbid"
        " held it while a run was active))"
    )


SETTINGS = OperatorConfig(runner_image="example.com/runner:1")


def scheduledrun(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return builders.scheduledrun(
        uid="u-1",
        generation=1,
        metadata={"creationTimestamp": "2026-06-01T08:00:00Z"},
        api_group="kagent.dev",
        status=status or {},
        **{"schedule": "* * * * *", **spec},
    )


def cronjob(last: datetime) -> CronJobState:
    return CronJobState(
        "nightly", None, False, "2026-06-01T08:00:00Z", None, "", "u-1", last_stamp(last)
    )


def last_stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_plan_counts_missed_runs_in_status_and_posts_one_event() -> None:
    sr = scheduledrun(
        {"missedRuns": 2, "runHistory": [{"id": "j", "scheduledTime": "2026-06-01T09:03:00Z"}]}
    )
    observed = Observed(at(3, 30), True, cronjob(at(3)), missed_since=at(0))
    got = plan.make_plan(sr, SETTINGS, observed)
    assert got.status_patch is not None
    status = got.status_patch["status"]
    assert (status["missedRuns"], status["lastMissedTime"], status["lastMissedReason"]) == (
        4,
        "2026-06-01T09:02:00Z",
        "Skipped",
    )
    assert [m.tick for m in got.missed] == [at(1), at(2)]
    assert got.missed_event is not None
    assert (got.missed_event.type, got.missed_event.reason) == ("Warning", "MissedRun")
    assert got.judged_through == at(3)


def test_a_recorded_miss_is_not_counted_again_after_a_restart() -> None:
    sr = scheduledrun({"missedRuns": 2, "lastMissedTime": "2026-06-01T09:02:00Z"})
    started = frozenset({at(3)})
    observed = Observed(at(3, 30), True, cronjob(at(3)), missed_since=at(0), started=started)
    got = plan.make_plan(sr, SETTINGS, observed)
    assert (got.missed, got.missed_event) == ((), None)


def test_a_suspended_schedule_misses_nothing() -> None:
    sr = scheduledrun(suspend=True)
    observed = Observed(at(3, 30), True, cronjob(at(0)), missed_since=at(0))
    got = plan.make_plan(sr, SETTINGS, observed)
    assert (got.missed, got.judged_through) == ((), at(3, 30))


def test_an_undecided_tick_is_looked_at_again_soon() -> None:
    sr = scheduledrun(schedule="0 * * * *")
    observed = Observed(at(0, 1) + timedelta(hours=1), True, cronjob(at(0)), missed_since=at(0))
    got = plan.make_plan(sr, SETTINGS, observed)
    assert got.look_again_at == observed.now + missed.RECHECK
