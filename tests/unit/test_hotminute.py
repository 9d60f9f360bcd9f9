"""The hot-minute warning (generator/operator/hotminute.py) and its place in the plan: the
`HotMinute` condition and event of a crowded ScheduledRun as literal values, what a plan writes
when the minute becomes crowded, stays crowded and clears, and which ScheduledRuns `HotMinutes`
says changed as schedules come and go and the hour turns. The operator on a real control plane is
tests/integration/test_hot_minute.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from generator.cronjob.config import OperatorConfig
from generator.operator import hotminute, plan
from generator.operator.plan import Observed
from generator.schedule.load import Crowded, Firing
from tests import builders

NOW = datetime(2026, 6, 1, 8, 30, 12, tzinfo=UTC)
NINE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SETTINGS = OperatorConfig(runner_image="example.com/runner:1")
CROWDED = Crowded(NINE, 3, "H 9 * * *")
CONDITION = {
    "type": "HotMinute",
    "status": "True",
    "reason": "AboveCapacity",
    "message": 'spec.schedule "0 9 * * *" fires in a minute shared by more ScheduledRuns than'
    " the CronJob controller is set to start in one (2): some runs will start late or be"
    ' skipped; "H 9 * * *" keeps the hour and gives it its own minute',
    "lastTransitionTime": "2026-06-01T08:30:12Z",
}


def scheduledrun(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return builders.scheduledrun(
        uid="u-1",
        generation=1,
        metadata={"creationTimestamp": "2026-06-01T08:00:00Z"},
        api_group="kagent.dev",
        status=status or {},
        **{"schedule": "0 9 * * *", **spec},
    )


def planned(sr: dict[str, Any], crowded: Crowded | None) -> plan.Plan:
    return plan.make_plan(
        sr, SETTINGS, Observed(NOW, True, None, hot_minute=crowded, hot_minute_capacity=2)
    )


def hot_conditions(got: plan.Plan) -> list[dict[str, Any]]:
    assert got.status_patch is not None
    return [c for c in got.status_patch["status"]["conditions"] if c["type"] == "HotMinute"]


def test_a_crowded_minute_sets_the_condition_and_warns_once() -> None:
    got = planned(scheduledrun(), CROWDED)
    assert hot_conditions(got) == [CONDITION]
    assert got.hot_minute_event == plan.Event(
        "Warning",
        "AboveCapacity",
        "3 ScheduledRuns fire at 2026-06-01T09:00:00Z, above the capacity of 2 per minute;"
        ' "H 9 * * *" keeps the hour and gives it its own minute',
    )


def test_still_crowded_writes_nothing_even_when_the_count_and_time_move() -> None:
    first = planned(scheduledrun(), CROWDED)
    assert first.status_patch is not None
    settled = scheduledrun(status=first.status_patch["status"])
    later = Crowded(NINE + timedelta(days=1), 7, "H 9 * * *")
    again = plan.make_plan(
        settled,
        SETTINGS,
        Observed(NOW + timedelta(minutes=20), True, None, hot_minute=later, hot_minute_capacity=2),
    )
    assert (again.status_patch, again.hot_minute_event) == (None, None)


@pytest.mark.parametrize(
    ("crowded", "spec"),
    [
        pytest.param(None, {}, id="no-longer-crowded"),
        pytest.param(CROWDED, {"suspend": True}, id="suspended-fires-nothing"),
    ],
)
def test_the_condition_goes_when_the_minute_clears(
    crowded: Crowded | None, spec: dict[str, Any]
) -> None:
    first = planned(scheduledrun(), CROWDED)
    assert first.status_patch is not None
    settled = scheduledrun(status=first.status_patch["status"], **spec)
    got = planned(settled, crowded)
    assert (hot_conditions(got), got.hot_minute_event) == ([], None)


def fire(name: str, schedule: str) -> Firing:
    return Firing(("team", name), schedule, "UTC", schedule)


def test_hot_minutes_report_who_changed() -> None:
    minutes = hotminute.HotMinutes(capacity=2)
    minutes.note(("team", "a"), fire("a", "0 9 * * *"))
    minutes.note(("team", "b"), fire("b", "0 9 * * *"))
    assert minutes.due(NOW)
    assert minutes.compute(NOW) == set()
    assert not minutes.due(NOW + timedelta(minutes=20))  # same hour, nothing new
    minutes.note(("team", "c"), fire("c", "0 9 * * *"))
    assert minutes.compute(NOW) == {("team", "a"), ("team", "b"), ("team", "c")}
    assert minutes.fullest == (NINE, 3)
    minutes.note(("team", "c"), fire("c", "0 9 * * *"))  # the same again: nothing to do
    assert not minutes.due(NOW)
    minutes.forget(("team", "b"))
    assert minutes.compute(NOW) == {("team", "a"), ("team", "c")}
    assert minutes.crowded == {}
    assert minutes.due(NOW + timedelta(hours=1))  # the hour turned: the window moves
