"""The REST API's pure answers: executions paging (kagent's cursor), fire times, verdicts, the
update body and If-Match. The routes against the cluster are in
tests/integration/test_server_api.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from server import answers, executions
from tests import builders

T0 = "2026-03-01T10:00:00Z"


def entry(id_: str, start: str | None, scheduled: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {"id": id_}
    if start:
        e["startTime"] = start
    if scheduled:
        e["scheduledTime"] = scheduled
    return e


HISTORY = [
    entry("a", "2026-03-01T09:00:00Z"),
    entry("c", T0),
    entry("b", T0),
    entry("d", None, "2026-03-01T11:00:00Z"),
]


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in entries]


def test_history_is_newest_first_by_start_then_id() -> None:
    assert ids(executions.page(HISTORY)) == ["d", "c", "b", "a"]


def test_pages_walk_the_whole_history_without_loss_at_a_shared_instant() -> None:
    first = executions.page(HISTORY, limit=2)
    last = first[-1]
    cursor = executions.parse_instant(last["startTime"])
    second = executions.page(HISTORY, limit=2, before=cursor, before_id=last["id"])
    assert ids(first) + ids(second) == ["d", "c", "b", "a"]


def test_before_without_id_is_strictly_earlier() -> None:
    assert ids(executions.page(HISTORY, before=executions.parse_instant(T0))) == ["a"]


def test_parse_instant_needs_an_offset() -> None:
    with pytest.raises(ValueError, match="offset"):
        executions.parse_instant("2026-03-01T10:00:00")


def scheduledrun(**spec: Any) -> dict[str, Any]:
    return builders.scheduledrun(
        namespace=None, target="a", **{"schedule": "30 2 * * *", "prompt": "hi", **spec}
    )


def test_fire_times_skip_the_spring_forward_gap_like_robfig() -> None:
    after = datetime(2026, 3, 28, 12, tzinfo=UTC)
    result = answers.next_runs(scheduledrun(timeZone="Europe/Berlin"), after, 2)
    times, notes = result["times"], result["notes"]
    assert notes == []
    # 02:30 does not exist in Berlin on 29 March 2026: that day has no run.
    assert times == [
        {"time": "2026-03-30T00:30:00Z", "local": "2026-03-30T02:30:00+02:00"},
        {"time": "2026-03-31T00:30:00Z", "local": "2026-03-31T02:30:00+02:00"},
    ]


def test_verdict_lists_every_problem_and_no_times_for_a_bad_schedule() -> None:
    result = answers.verdict(
        scheduledrun(schedule="61 * * * *", maxRunHistory=0), datetime.now(UTC), 5
    )
    assert not result["valid"]
    assert {p["field"] for p in result["problems"]} == {"spec.schedule", "spec.maxRunHistory"}
    assert result["times"] == []


def test_verdict_names_the_dst_changes_the_schedule_meets() -> None:
    after = datetime(2026, 3, 28, 12, tzinfo=UTC)
    result = answers.verdict(scheduledrun(timeZone="Europe/Berlin"), after, 2)
    skip, repeat, *_ = result["dst"]  # and those of the next spring, within a year
    assert skip == {
        "at": "2026-03-29T01:00:00Z",
        "kind": "skip",
        "from": "2026-03-29T02:00:00",
        "to": "2026-03-29T03:00:00",
        "times": ["2026-03-29T02:30:00"],
        "more": False,
    }
    assert (repeat["kind"], repeat["times"]) == ("repeat", ["2026-10-25T02:30:00"])


def test_the_preview_keeps_only_what_the_policies_let_fire() -> None:
    after = datetime(2026, 12, 1, 12, tzinfo=UTC)
    result = answers.verdict(scheduledrun(endTime="2026-12-04T00:00:00Z", maxRuns=5), after, 5)
    assert [t["time"] for t in result["times"]] == ["2026-12-02T02:30:00Z", "2026-12-03T02:30:00Z"]
    assert result["notes"] == [
        "ends: no scheduled run after spec.endTime 2026-12-04T00:00:00Z",
        "maxRuns: 5 of 5 scheduled runs left",
    ]


def test_next_runs_of_a_paused_scheduledrun_are_none() -> None:
    paused = {"conditions": [{"type": "Paused", "status": "True", "reason": "PausedAfterFailures"}]}
    result = answers.next_runs({**scheduledrun(), "status": paused}, datetime.now(UTC), 3)
    assert result["times"] == []
    assert result["notes"][0].startswith("paused after failures")


def test_verdict_of_something_that_is_not_an_object() -> None:
    result = answers.verdict([1, 2], datetime.now(UTC), 5)
    assert (result["valid"], result["times"]) == (False, [])


def test_next_runs_report_a_schedule_that_never_fires() -> None:
    result = answers.next_runs(scheduledrun(schedule="0 0 31 2 *"), datetime.now(UTC), 3)
    assert (result["times"], "problems" in result) == ([], False)


def test_replacement_keeps_cluster_metadata_and_carries_the_clients_version() -> None:
    current = {
        "metadata": {
            "name": "n",
            "uid": "u",
            "resourceVersion": "9",
            "labels": {"a": "1"},
            "finalizers": ["f"],
        },
        "spec": {"prompt": "old"},
        "status": {"runHistory": [{"id": "j"}]},
    }
    body = {"metadata": {"annotations": {"b": "2"}}, "spec": {"prompt": "new"}, "status": {}}
    sent = answers.replacement(current, body, "7")
    assert sent["metadata"] == {
        "name": "n",
        "uid": "u",
        "resourceVersion": "7",
        "labels": {"a": "1"},
        "finalizers": ["f"],
        "annotations": {"b": "2"},
    }
    assert (sent["spec"], "status" in sent) == ({"prompt": "new"}, False)


@pytest.mark.parametrize(
    ("header", "version"),
    [('"12"', "12"), ('W/"12"', "12"), ("12", "12"), ("*", None), (None, None)],
)
def test_if_match_version(header: str | None, version: str | None) -> None:
    assert answers.if_match_version(header) == version


def test_hashed_schedules_fire_at_the_operators_expansion() -> None:
    obj = scheduledrun(schedule="H 3 * * *")
    obj["metadata"]["namespace"] = "team-a"
    result = answers.next_runs(obj, datetime(2026, 1, 1, tzinfo=UTC), 1)
    # H in the minute of team-a/nightly is 51 (the operator's expansion: test_hashed.py).
    assert result["effectiveSchedule"] == "51 3 * * *"
    assert result["times"] == [
        {"time": "2026-01-01T03:51:00Z", "local": "2026-01-01T03:51:00+00:00"}
    ]


def test_fire_times_stop_at_the_end_time_as_scheduledrun_next_does() -> None:
    obj = scheduledrun(endTime="2026-01-02T12:00:00Z")
    result = answers.next_runs(obj, datetime(2026, 1, 1, tzinfo=UTC), 5)
    times, notes = result["times"], result["notes"]
    assert [t["time"] for t in times] == ["2026-01-01T02:30:00Z", "2026-01-02T02:30:00Z"]
    assert any("endTime" in note for note in notes)


def hourly(name: str, namespace: str, schedule: str = "0 * * * *") -> dict[str, Any]:
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "ScheduledRun",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"schedule": schedule, "targetRef": {"kind": "Agent", "name": "a"}, "prompt": "p"},
    }


def test_validate_counts_who_shares_each_fire_time() -> None:
    mine = hourly("mine", "team", "0 */2 * * *")
    team = [mine, hourly("b", "team"), hourly("c", "team", "30 * * * *")]
    cluster = [*team, hourly("x", "other"), hourly("y", "other", "0 */4 * * *")]
    after = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
    answer = answers.verdict(mine, after, 2, answers.Neighbours(team, cluster))
    shared = [(t["time"], t["shared"], t["sharedInCluster"]) for t in answer["times"]]
    assert shared == [("2026-06-01T10:00:00Z", 1, 2), ("2026-06-01T12:00:00Z", 1, 3)]
    assert answer["suggestedSchedule"] == "H */2 * * *"


def test_validate_without_listing_rights_has_no_cluster_count() -> None:
    mine = hourly("mine", "team", "H * * * *")
    after = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
    answer = answers.verdict(mine, after, 1, answers.Neighbours([hourly("b", "team")]))
    assert [sorted(t) for t in answer["times"]] == [["local", "shared", "time"]]
    assert answer["times"][0]["shared"] == 0
    assert "suggestedSchedule" not in answer
