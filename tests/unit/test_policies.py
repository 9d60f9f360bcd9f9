"""Pause after failures and the stop rules (generator/spec/policies.py) and what the plan makes of
them: the suspended CronJob, the conditions, `resumedAt`, `nextRunTime`, events, the requeue at
`endTime`. Pure, fixed clock. The real CronJob controller's ticks: tests/e2e/test_policies.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from generator.cronjob.config import OperatorConfig
from generator.operator import plan
from generator.operator.plan import CronJobState, Observed
from generator.spec import policies, validate
from runner import api, conditions
from runner.conditions import ConditionType
from tests import builders

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
SETTINGS = OperatorConfig(runner_image="example.com/runner:1")


def entry(minute: int, status: str, trigger: str = "Scheduled") -> dict[str, Any]:
    due = f"2026-03-01T11:{minute:02d}:00Z"
    found: dict[str, Any] = {"id": f"nightly-{minute}", "trigger": trigger, "startTime": due}
    if trigger == "Scheduled":
        found["scheduledTime"] = due
    return found | {"status": status, "message": f"{status.lower()} at {minute}"}


def sr(
    runs: list[dict[str, Any]] | None = None,
    status: dict[str, Any] | None = None,
    generation: int = 4,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return builders.scheduledrun(
        uid="u-1",
        generation=generation,
        metadata={"creationTimestamp": "2026-03-01T10:00:00Z", "annotations": annotations or {}},
        target="agent",
        status={"runHistory": runs or [], **(status or {})},
        **{"schedule": "*/1 * * * *", **spec},
    )


F, S, P = "Failed", "Succeeded", "Pending"


@pytest.mark.parametrize(
    ("runs", "since", "count", "last"),
    [
        pytest.param([], None, 0, None, id="empty"),
        pytest.param([entry(3, F), entry(2, F), entry(1, S)], None, 2, "nightly-3", id="two"),
        pytest.param([entry(3, S), entry(2, F)], None, 0, None, id="newest-succeeded"),
        pytest.param(
            [entry(4, F, "Manual"), entry(3, S, "Manual"), entry(2, F), entry(1, F)],
            None, 2, "nightly-2", id="manual-runs-neither-count-nor-break",
        ),
        pytest.param([entry(3, P), entry(2, F)], None, 1, "nightly-2", id="pending-skipped"),
        pytest.param(
            [entry(3, "Timeout"), entry(2, "DispatchFailed"), entry(1, F)], None, 3, "nightly-3",
            id="every-non-success-counts",
        ),
        pytest.param(
            [entry(3, F), entry(2, F), entry(1, F)], datetime(2026, 3, 1, 11, 2, tzinfo=UTC),
            1, "nightly-3", id="only-after-resume",
        ),
        pytest.param(
            [{**entry(1, F), "startTime": "2026-03-01T11:03:00Z"}, entry(0, F)],
            datetime(2026, 3, 1, 11, 2, tzinfo=UTC), 1, "nightly-1",
            id="caught-up-tick-started-after-resume-counts",
        ),
    ],
)  # fmt: skip
def test_streak(
    runs: list[dict[str, Any]], since: datetime | None, count: int, last: str | None
) -> None:
    got = policies.streak(runs, since)
    assert (got.count, (got.last_failure or {}).get("id")) == (count, last)


def fails(n: int) -> list[dict[str, Any]]:
    return [entry(50 - i, F) for i in range(n)]


def paused_condition(observed: dict[str, Any]) -> dict[str, Any] | None:
    return conditions.find(observed["status"], ConditionType.PAUSED)


@pytest.mark.parametrize(
    ("failures", "held"),
    [
        pytest.param(2, False, id="n-minus-1"),
        pytest.param(3, True, id="exactly-n"),
        pytest.param(4, True, id="n-plus-1"),
    ],
)
def test_pause_after_exactly_n_failures(failures: int, held: bool) -> None:
    got = policies.decide(sr(fails(failures), pauseAfterFailures=3), NOW)
    assert got.held is held
    assert got.paused is not None
    assert (got.paused["status"], got.paused["reason"]) == (
        ("True", "PausedAfterFailures") if held else ("False", "BelowThreshold")
    )
    if held:
        assert f"{failures} consecutive scheduled runs did not succeed" in got.paused["message"]
        assert "last: nightly-50 Failed: failed at 50" in got.paused["message"]
        assert got.event is not None
        assert got.event.reason == "PausedAfterFailures"


def standing_pause(since: str = "2026-03-01T11:50:05Z", generation: int = 4) -> dict[str, Any]:
    return {
        "type": "Paused",
        "status": "True",
        "reason": "PausedAfterFailures",
        "message": "3 consecutive ...",
        "lastTransitionTime": since,
        "observedGeneration": generation,
    }


def test_a_pause_is_sticky_when_history_scrolls_away() -> None:
    manual = [entry(55 - i, S, "Manual") for i in range(5)]  # the failures trimmed away
    got = policies.decide(sr(manual, {"conditions": [standing_pause()]}, pauseAfterFailures=3), NOW)
    assert (got.held, got.event, got.paused) == (True, None, standing_pause())


@pytest.mark.parametrize(
    ("generation", "annotations", "limit", "resumed"),
    [
        pytest.param(5, {}, 3, "the spec changed", id="spec-changed"),
        pytest.param(
            4, {api.ANNOTATION_RESUME: "2026-03-01T11:50:05Z"}, 3, "annotation", id="annotation"
        ),
        pytest.param(4, {api.ANNOTATION_RESUME: "2026-02-01T00:00:00Z"}, 3, None, id="stale"),
        pytest.param(4, {}, 3, None, id="nothing-done"),
        pytest.param(4, {}, None, "pauseAfterFailures was removed", id="policy-removed"),
    ],
)
def test_resume(
    generation: int, annotations: dict[str, str], limit: int | None, resumed: str | None
) -> None:
    spec = {} if limit is None else {"pauseAfterFailures": limit}
    obj = sr(fails(3), {"conditions": [standing_pause()]}, generation, annotations, **spec)
    got = policies.decide(obj, NOW)
    if resumed is None:
        assert (got.held, got.event) == (True, None)
        return
    assert got.held is False
    assert got.event is not None
    assert got.event.reason == "Resumed"
    assert resumed in got.event.message
    assert got.resumed_at == ("2026-03-01T12:00:30Z" if limit else None)
    if limit is not None:
        assert got.paused is not None
        assert (got.paused["status"], got.paused["lastTransitionTime"]) == (
            "False",
            "2026-03-01T12:00:30Z",
        )


def test_after_a_resume_the_count_starts_again() -> None:
    status = {"resumedAt": "2026-03-01T11:50:30Z"}
    later = [entry(53, F), entry(52, F), *fails(3)]  # two new failures after three old ones
    got = policies.decide(sr(later, status, pauseAfterFailures=3), NOW)
    assert (got.held, got.paused and got.paused["message"]) == (
        False,
        "2 of 3 consecutive scheduled runs did not succeed",
    )
    third = policies.decide(sr([entry(54, F), *later], status, pauseAfterFailures=3), NOW)
    assert third.held is True


@pytest.mark.parametrize(
    ("spec", "status", "now", "reason", "look"),
    [
        pytest.param({}, {}, NOW, None, None, id="no-rules"),
        pytest.param(
            {"endTime": "2026-03-01T12:05:00Z"}, {}, NOW, "WithinLimits",
            datetime(2026, 3, 1, 12, 5, 1, tzinfo=UTC), id="before-end-wakes-after-it",
        ),
        pytest.param(
            {"endTime": "2026-03-01T12:00:30Z"}, {}, NOW, "WithinLimits",
            datetime(2026, 3, 1, 12, 0, 31, tzinfo=UTC), id="at-end-not-yet",
        ),
        pytest.param(
            {"endTime": "2026-03-01T12:00:29Z"}, {}, NOW, "EndTimeReached", None, id="after-end"
        ),
        pytest.param({"maxRuns": 2}, {"scheduledRuns": 1}, NOW, "WithinLimits", None, id="below"),
        pytest.param({"maxRuns": 2}, {"scheduledRuns": 2}, NOW, "MaxRunsReached", None, id="max"),
    ],
)  # fmt: skip
def test_stop_rules(
    spec: dict[str, Any],
    status: dict[str, Any],
    now: datetime,
    reason: str | None,
    look: datetime | None,
) -> None:
    got = policies.decide(sr(status=status, **spec), now)
    assert (got.stopped or {}).get("reason") == reason
    assert got.held is (reason in ("EndTimeReached", "MaxRunsReached"))
    assert got.look_again_at == look


def plan_for(obj: dict[str, Any], now: datetime = NOW) -> plan.Plan:
    cronjob = CronJobState("nightly", "old-hash", suspended=False, owner_uid="u-1")
    return plan.make_plan(obj, SETTINGS, Observed(now, True, cronjob))


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        pytest.param(sr(fails(3), pauseAfterFailures=3), "PausedAfterFailures", id="paused"),
        pytest.param(sr(endTime="2026-03-01T12:00:00Z"), "EndTimeReached", id="ended"),
        pytest.param(sr(status={"scheduledRuns": 5}, maxRuns=5), "MaxRunsReached", id="max"),
    ],
)
def test_a_held_schedule_suspends_the_cronjob_and_has_no_next_run(
    obj: dict[str, Any], reason: str
) -> None:
    got = plan_for(obj)
    assert got.write_cronjob is not None
    assert got.write_cronjob["spec"]["suspend"] is True
    assert got.status_patch is not None
    status = got.status_patch["status"]
    assert "nextRunTime" not in status  # absent before, absent now: nothing to write
    assert reason in [c["reason"] for c in status["conditions"]]
    assert got.policy_event is not None
    assert got.policy_event.reason == reason
    assert got.active is False


def test_no_next_run_when_the_next_tick_is_after_end_time() -> None:
    got = plan_for(sr(endTime="2026-03-01T12:00:45Z"))
    assert got.status_patch is not None
    assert got.status_patch["status"].get("nextRunTime") is None
    assert got.look_again_at == datetime(2026, 3, 1, 12, 0, 46, tzinfo=UTC)
    assert got.write_cronjob is not None
    assert got.write_cronjob["spec"]["suspend"] is False


def test_a_resumed_schedule_runs_again_and_records_resumed_at() -> None:
    obj = sr(fails(3), {"conditions": [standing_pause()]}, 5, pauseAfterFailures=3)
    got = plan_for(obj)
    assert got.write_cronjob is not None
    assert got.write_cronjob["spec"]["suspend"] is False
    assert got.status_patch is not None
    status = got.status_patch["status"]
    assert (status["resumedAt"], status["nextRunTime"]) == (
        "2026-03-01T12:00:30Z",
        "2026-03-01T12:01:00Z",
    )
    assert got.policy_event is not None
    assert got.policy_event.reason == "Resumed"


def test_a_standing_pause_writes_nothing_more() -> None:
    obj = sr(fails(3), pauseAfterFailures=3)
    first = plan_for(obj)
    assert first.status_patch is not None
    assert first.write_cronjob is not None
    obj["status"] |= first.status_patch["status"]
    applied = first.write_cronjob["metadata"]["annotations"][api.ANNOTATION_SPEC_HASH]
    cronjob = CronJobState("nightly", applied, suspended=True, owner_uid="u-1")
    again = plan.make_plan(obj, SETTINGS, Observed(NOW + timedelta(minutes=5), True, cronjob))
    assert (again.write_cronjob, again.status_patch, again.policy_event) == (None, None, None)


def test_policies_keep_their_conditions_while_not_accepted() -> None:
    obj = sr(fails(3), {"conditions": [standing_pause()]}, pauseAfterFailures=3)
    got = plan.make_plan(obj, SETTINGS, Observed(NOW, False, None))
    assert got.status_patch is not None
    assert standing_pause() in got.status_patch["status"]["conditions"]


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        pytest.param({"pauseAfterFailures": 0}, "spec.pauseAfterFailures", "1 to 100", id="p0"),
        pytest.param(
            {"pauseAfterFailures": 11}, "spec.pauseAfterFailures", "more than maxRunHistory 10",
            id="p-over-default-history",
        ),
        pytest.param(
            {"pauseAfterFailures": 20, "maxRunHistory": 10}, "spec.pauseAfterFailures",
            "raise maxRunHistory", id="p-over-history",
        ),
        pytest.param({"pauseAfterFailures": "3"}, "spec.pauseAfterFailures", "whole", id="p-str"),
        pytest.param({"endTime": "tomorrow"}, "spec.endTime", "RFC 3339", id="end-words"),
        pytest.param({"endTime": "2026-12-31T23:00:00"}, "spec.endTime", "zone", id="end-no-zone"),
        pytest.param({"endTime": "2026-13-01T00:00:00Z"}, "spec.endTime", "RFC", id="end-month"),
        pytest.param({"maxRuns": 0}, "spec.maxRuns", "at least 1", id="max-0"),
        pytest.param({"maxRuns": True}, "spec.maxRuns", "whole number", id="max-bool"),
        pytest.param({"includePreviousRun": "yes"}, "spec.includePreviousRun", "true or false",
                     id="previous-str"),
    ],
)  # fmt: skip
def test_validation(spec: dict[str, Any], field: str, message: str) -> None:
    problems = validate.validate_spec(sr(**spec)["spec"])
    assert [(p.reason, p.field) for p in problems] == [("InvalidSpec", field)]
    assert message in problems[0].message


@pytest.mark.parametrize(
    "spec",
    [
        {"pauseAfterFailures": 10},
        {"pauseAfterFailures": 20, "maxRunHistory": 20},
        {"endTime": "2026-12-31T23:00:00+01:00"},
        {"endTime": "2026-12-31t23:00:00.5z"},
        {"maxRuns": 1},
        {"includePreviousRun": True},
    ],
)
def test_valid_policies(spec: dict[str, Any]) -> None:
    assert validate.validate_spec(sr(**spec)["spec"]) == []


ANY = [datetime(2026, 3, 1, 12, m, tzinfo=UTC) for m in (1, 2, 3, 4)]


@pytest.mark.parametrize(
    ("obj", "kept", "note"),
    [
        pytest.param(sr(), 4, None, id="no-policies"),
        pytest.param(sr(endTime="2026-03-01T12:02:00Z"), 2, "ends: no scheduled run", id="end"),
        pytest.param(sr(status={"scheduledRuns": 3}, maxRuns=4), 1, "1 of 4 scheduled runs left",
                     id="max-runs"),
        pytest.param(sr(status={"scheduledRuns": 5}, maxRuns=4), 0, "0 of 4", id="max-reached"),
        pytest.param(sr(status={"conditions": [standing_pause()]}, pauseAfterFailures=3), 0,
                     "scheduledrun resume nightly", id="paused"),
    ],
)  # fmt: skip
def test_next_shows_only_what_the_policies_let_fire(
    obj: dict[str, Any], kept: int, note: str | None
) -> None:
    times, notes = policies.upcoming(obj, ANY)
    assert times == ANY[:kept]
    if note is None:
        assert notes == []
    else:
        assert any(note in n for n in notes), notes


def test_next_command_stops_at_end_time() -> None:
    from click.testing import CliRunner

    from runner.cli import main

    text = """\
apiVersion: kagent.dev/v1alpha2
kind: ScheduledRun
metadata: {name: ending, namespace: team-a}
spec:
  schedule: "*/10 * * * *"
  endTime: "2026-03-01T12:20:00Z"
  targetRef: {kind: Agent, name: a}
  prompt: Report.
"""
    args = ["next", "-", "--after", "2026-03-01T12:00:00Z", "--count", "5"]
    result = CliRunner().invoke(main, args, input=text)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "  ends: no scheduled run after spec.endTime 2026-03-01T12:20:00Z",
        "  2026-03-01T12:10:00Z",
        "  2026-03-01T12:20:00Z",
    ]
