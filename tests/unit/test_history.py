"""runner.history: ordering, upsert, trim, truncation and the lastRun* fields.

Pure functions only; the conflict-retrying status writes that use them are covered by the runner
integration tests against the real apiserver.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner import api, history

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)  # the clock of the runner that records, after every entry


def entry(n: int, status: str = "Succeeded", **extra: Any) -> dict[str, Any]:
    """The run due n minutes after T0."""
    when = history.format_time(T0 + timedelta(minutes=n))
    return {
        "id": f"job-{n:03d}",
        "scheduledTime": when,
        "startTime": when,
        "status": status,
        **extra,
    }


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in entries]


@pytest.mark.parametrize(
    ("given_entries", "expected"),
    [
        pytest.param(
            [entry(1), entry(3), entry(2)],
            ["job-003", "job-002", "job-001"],
            id="by-scheduled-time",
        ),
        pytest.param(
            [
                {
                    "id": "b",
                    "scheduledTime": "2026-03-01T12:00:00Z",
                    "startTime": "2026-03-01T12:00:05Z",
                },
                {
                    "id": "a",
                    "scheduledTime": "2026-03-01T12:00:00Z",
                    "startTime": "2026-03-01T12:00:09Z",
                },
            ],
            ["a", "b"],
            id="same-schedule-later-start-is-newer",
        ),
        pytest.param(
            [
                {"id": "a", "startTime": "2026-03-01T12:00:00Z"},
                {"id": "b", "startTime": "2026-03-01T12:00:00Z"},
            ],
            ["b", "a"],
            id="full-tie-broken-by-id",
        ),
        pytest.param(
            [{"id": "no-times"}, entry(0)],
            ["job-000", "no-times"],
            id="missing-times-are-oldest",
        ),
        pytest.param(
            [
                {"id": "m", "scheduledTime": "2026-03-01T12:00:30.5+00:00"},
                {"id": "z", "scheduledTime": "2026-03-01T12:00:30Z"},
            ],
            ["m", "z"],
            id="fractional-and-offset-times-compare-as-instants",
        ),
    ],
)
def test_newest_first_orders_runs_by_when_they_were_due(
    given_entries: list[dict[str, Any]], expected: list[str]
) -> None:
    assert ids(history.newest_first(given_entries)) == expected


@pytest.mark.parametrize(
    ("start", "new", "expected_ids", "expected_status"),
    [
        pytest.param(
            [entry(1), entry(2)],
            entry(3, "Pending"),
            ["job-003", "job-002", "job-001"],
            "Pending",
            id="insert",
        ),
        pytest.param(
            [entry(2, "Pending"), entry(1)],
            entry(2, "Failed"),
            ["job-002", "job-001"],
            "Failed",
            id="replace",
        ),
        pytest.param([], entry(5, "Pending"), ["job-005"], "Pending", id="into-empty"),
    ],
)
def test_upsert_replaces_by_id_or_adds(
    start: list[dict[str, Any]], new: dict[str, Any], expected_ids: list[str], expected_status: str
) -> None:
    result = history.upsert(start, new)
    assert ids(result) == expected_ids
    assert history.find(result, new["id"]) == new
    assert history.find(result, new["id"])["status"] == expected_status  # type: ignore[index]


def test_upsert_leaves_its_input_alone() -> None:
    start = [entry(1, "Pending")]
    history.upsert(start, entry(1, "Failed"))
    assert start == [entry(1, "Pending")]


@pytest.mark.parametrize(
    ("count", "limit", "expected"),
    [
        pytest.param(5, 3, ["job-005", "job-004", "job-003"], id="keeps-newest"),
        pytest.param(2, 10, ["job-005", "job-001", "job-000"], id="under-limit"),
        pytest.param(3, 1, ["job-005"], id="limit-one"),
    ],
)
def test_record_keeps_the_run_and_the_newest_others(
    count: int, limit: int, expected: list[str]
) -> None:
    shuffled = [entry(n) for n in range(count)]
    random.Random(7).shuffle(shuffled)
    patch = history.record({"runHistory": shuffled}, entry(5, "Pending"), limit, LATER)
    assert ids(patch["runHistory"]) == expected


def test_find_missing_id_is_none() -> None:
    assert history.find([entry(1)], "job-999") is None


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        pytest.param("short", 10, "short", id="fits"),
        pytest.param("  padded  \n", 10, "padded", id="stripped"),
        pytest.param("abcdefghijkl", 5, "abcd…", id="cut-with-ellipsis"),
        pytest.param("abc   defghij", 7, "abc…", id="no-dangling-space"),
        pytest.param("x" * 10, 10, "x" * 10, id="exactly-limit"),
    ],
)
def test_a_message_is_stripped_and_cut_to_the_limit_with_an_ellipsis(
    text: str, limit: int, expected: str
) -> None:
    result = history.truncate_message(text, limit)
    assert result == expected
    assert len(result) <= limit


def test_truncate_default_limit_is_the_api_bound() -> None:
    assert len(history.truncate_message("y" * 5000)) == api.MESSAGE_MAX_CHARS


def test_finished_sets_status_message_and_end() -> None:
    done = history.finished(entry(1, "Pending"), "Failed", "z" * 3000, T0)
    assert (done["status"], done["endTime"], len(done["message"])) == (
        "Failed",
        "2026-03-01T12:00:00Z",
        api.MESSAGE_MAX_CHARS,
    )


def test_new_pending_entry_of_a_scheduled_run() -> None:
    pending = history.new_pending("job-1", "Scheduled", T0, T0 + timedelta(seconds=3))
    assert pending == {
        "id": "job-1",
        "trigger": "Scheduled",
        "scheduledTime": "2026-03-01T12:00:00Z",
        "startTime": "2026-03-01T12:00:03Z",
        "status": "Pending",
        "message": "dispatching",
    }


def test_new_pending_entry_of_a_manual_run_has_no_scheduled_time() -> None:
    pending = history.new_pending("job-1", "Manual", None, T0)
    assert "scheduledTime" not in pending
    assert pending["trigger"] == "Manual"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([], {"lastRunTime": None, "lastRunStatus": None}, id="no-runs"),
        pytest.param(
            [entry(1, "Failed"), entry(2, "Pending")],
            {"lastRunTime": "2026-03-01T12:02:00Z", "lastRunStatus": "Pending"},
            id="newest-entry-wins",
        ),
    ],
)
def test_last_run_fields_come_from_the_newest_entry(
    entries: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    assert history.last_run(entries) == expected


def test_record_upserts_trims_and_derives() -> None:
    status = {"runHistory": [entry(1), entry(2), entry(3)], "cronJobName": "x"}
    patch = history.record(status, entry(4, "Pending"), 3)
    assert ids(patch["runHistory"]) == ["job-004", "job-003", "job-002"]
    assert patch["lastRunStatus"] == "Pending"
    assert "cronJobName" not in patch


def test_a_run_older_than_the_kept_ones_takes_the_place_of_the_oldest() -> None:
    status = {"runHistory": [entry(5), entry(6)]}
    patch = history.record(status, entry(1, "Pending"), 2, LATER)
    assert ids(patch["runHistory"]) == ["job-006", "job-001"]


@pytest.mark.parametrize(
    ("kept", "ended", "expected"),
    [
        pytest.param([5, 6], 6, ["job-006", "job-005"], id="still-kept-is-updated"),
        # Newer runs trimmed job-001 after its Pending: its end must not push job-005 out.
        pytest.param([5, 6], 1, None, id="trimmed-away-writes-nothing"),
        # Trimmed only by an entry that is no longer possible: it is among the newest again.
        pytest.param([6], 3, ["job-006", "job-003"], id="room-again-is-recorded"),
    ],
)
def test_a_later_write_never_brings_back_a_run_newer_ones_trimmed(
    kept: list[int], ended: int, expected: list[str] | None
) -> None:
    status = {"runHistory": [entry(n, "Succeeded") for n in kept]}
    patch = history.update(status, entry(ended, "Failed"), 2, LATER)
    assert (None if patch is None else ids(patch["runHistory"])) == expected


@given(st.permutations(list(range(20))), st.lists(st.integers(0, 19), max_size=20))
def test_every_write_keeps_its_run_and_the_history_stays_bounded(
    order: list[int], finishes: list[int]
) -> None:
    """20 runners each write Pending, some later a terminal entry, in any interleaving."""
    status: dict[str, Any] = {}
    writes = [entry(n, "Pending") for n in order] + [entry(n, "Succeeded") for n in finishes]
    for write in writes:
        status = {**status, **history.record(status, write, 10, LATER)}
        assert history.find(status["runHistory"], write["id"]) == write
        assert len(status["runHistory"]) <= 10
    newest = [entry(20 + n, "Succeeded") for n in range(10)]  # ten later ticks, in order
    for write in newest:
        status = {**status, **history.record(status, write, 10, LATER)}
    assert ids(status["runHistory"]) == [f"job-{n:03d}" for n in range(29, 19, -1)]


FUTURE = [
    {"id": f"forged-{n}", "status": "Succeeded", "scheduledTime": f"2099-01-01T00:0{n}:00Z"}
    for n in range(10)
]


def test_entries_dated_in_the_future_never_crowd_out_the_run_being_recorded() -> None:
    now = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    pending = history.new_pending(
        "nightly-1", "Scheduled", datetime(2026, 3, 1, 12, tzinfo=UTC), now
    )

    fields = history.record({"runHistory": FUTURE, "lastRunStatus": "Succeeded"}, pending, 10, now)

    assert [e["id"] for e in fields["runHistory"]] == ["nightly-1"]
    assert fields["lastRunStatus"] == "Pending"


NOW = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)


def dated(name: str, ahead: timedelta, manual: bool = False) -> dict[str, Any]:
    """A Succeeded entry dated `ahead` of NOW (scheduled, or manual with only a start)."""
    when = history.format_time(NOW + ahead)
    times = {"startTime": when} if manual else {"scheduledTime": when, "startTime": when}
    return {"id": name, "status": "Succeeded", **times}


@pytest.mark.parametrize(
    ("found", "limit", "trigger", "kept"),
    [
        pytest.param(
            [dated("ahead", timedelta(minutes=4))], 1, "Scheduled", ["nightly-1"],
            id="one-entry-4-minutes-ahead-limit-1",
        ),
        pytest.param(
            [dated(f"ahead-{n}", timedelta(minutes=n)) for n in range(1, 5)], 4, "Scheduled",
            ["ahead-4", "ahead-3", "ahead-2", "nightly-1"], id="full-history-ahead",
        ),
        pytest.param(
            [dated("ahead", timedelta(seconds=299), manual=True)], 1, "Manual", ["nightly-1"],
            id="manual-run-under-a-manual-entry-ahead",
        ),
        pytest.param(
            [dated("later-tick", timedelta(0))], 1, "Scheduled", ["nightly-1"],
            id="a-later-tick-already-recorded",
        ),
        pytest.param(
            [dated("far", timedelta(minutes=6)), dated("ahead", timedelta(minutes=1))], 2,
            "Scheduled", ["ahead", "nightly-1"], id="impossible-dropped-near-kept",
        ),
        pytest.param(
            [], 1, "Scheduled", ["nightly-1"], id="empty-history",
        ),
    ],
)  # fmt: skip
def test_a_new_run_always_leaves_its_entry(
    found: list[dict[str, Any]], limit: int, trigger: api.Trigger, kept: list[str]
) -> None:
    scheduled = None if trigger == "Manual" else NOW - timedelta(seconds=5)
    pending = history.new_pending("nightly-1", trigger, scheduled, NOW)

    fields = history.record({"runHistory": found}, pending, limit, NOW)

    assert ids(fields["runHistory"]) == kept


def test_an_entry_within_the_clock_skew_is_kept() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    ahead = {"id": "other-node", "status": "Pending", "startTime": "2026-03-01T12:04:00Z"}

    assert history.possible(ahead, now)
    assert not history.possible({**ahead, "startTime": "2026-03-01T12:06:00Z"}, now)
