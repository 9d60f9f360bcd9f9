"""generator.operator.metrics: which history entries count, that each run counts once per process
and not again after a restart, and the exposition text Prometheus scrapes (parsed with its own
parser).

The /metrics endpoint of a running operator is covered by tests/integration/test_operator.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from generator.operator.metrics import Metrics, RunCounter, newly_finished, observation
from runner import history

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(run: str, status: str, start_min: int, end_min: int | None = None) -> dict[str, Any]:
    e = {
        "id": run,
        "status": status,
        "scheduledTime": (START + timedelta(minutes=start_min)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "startTime": (START + timedelta(minutes=start_min, seconds=3)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    if end_min is not None:
        e["endTime"] = (START + timedelta(minutes=end_min)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return e


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.parametrize(
    ("history", "seen", "expected"),
    [
        pytest.param([entry("a", "Pending", 1)], [], [], id="pending-is-not-finished"),
        pytest.param([entry("a", "Succeeded", 1, 2)], [], ["a"], id="finished-after-start"),
        pytest.param([entry("a", "Succeeded", -10, -5)], [], [], id="finished-before-start"),
        pytest.param([entry("a", "Failed", 1, 2)], ["a"], [], id="already-counted"),
        pytest.param([entry("a", "Failed", 1)], [], [], id="terminal-without-end-time"),
    ],
)
def test_a_run_is_counted_once_and_only_if_it_ended_after_the_start(
    history: list[dict[str, Any]], seen: list[str], expected: list[str]
) -> None:
    assert [e["id"] for e in newly_finished(history, seen, START)] == expected


def test_observation_of_a_dispatch_failure() -> None:
    seen = observation(entry("a", "DispatchFailed", 1, 2))

    assert (seen.outcome, seen.dispatched, seen.dispatch_seconds, seen.run_seconds) == (
        "DispatchFailed",
        False,
        3.0,
        57.0,
    )


def test_each_run_counts_once_across_many_events() -> None:
    counter = RunCounter(Metrics(), started=START)
    key = ("team-a", "nightly")
    pending = [entry("r1", "Pending", 1)]
    done = [entry("r1", "Succeeded", 1, 2)]
    second = [entry("r2", "Timeout", 16, 31), *done]

    counts = [counter.observe(key, h) for h in (pending, done, done, second, second)]

    assert counts == [0, 1, 0, 1, 0]
    got = samples(counter.metrics)
    labels = (("name", "nightly"), ("namespace", "team-a"))
    assert got[("kagent_scheduledrun_outcome_total", (*labels, ("outcome", "Succeeded")))] == 1
    assert got[("kagent_scheduledrun_outcome_total", (*labels, ("outcome", "Timeout")))] == 1
    assert got[("kagent_scheduledrun_dispatch_total", (*labels, ("status", "success")))] == 2
    assert got[("kagent_scheduledrun_dispatch_duration_seconds_count", labels)] == 2
    run_count = (
        "kagent_scheduledrun_run_duration_seconds_count",
        (*labels, ("outcome", "Timeout")),
    )
    assert got[run_count] == 1
    run_sum = ("kagent_scheduledrun_run_duration_seconds_sum", (*labels, ("outcome", "Timeout")))
    assert got[run_sum] == 15 * 60 - 3


def test_a_restarted_operator_does_not_count_old_runs_again() -> None:
    key = ("team-a", "nightly")
    history = [entry("r2", "Failed", 16, 17), entry("r1", "Succeeded", 1, 2)]
    before = RunCounter(Metrics(), started=START)
    assert before.observe(key, history) == 2

    after = RunCounter(Metrics(), started=START + timedelta(minutes=20))
    newer = [entry("r3", "Succeeded", 21, 22), *history]

    assert [after.observe(key, history), after.observe(key, newer)] == [0, 1]


def test_memory_of_seen_runs_follows_the_trimmed_history() -> None:
    counter = RunCounter(Metrics(), started=START)
    key = ("team-a", "nightly")
    counter.observe(key, [entry("r1", "Succeeded", 1, 2)])
    counter.observe(key, [entry("r2", "Succeeded", 3, 4)])  # r1 trimmed away

    assert counter.seen[key] == frozenset({"r2"})


def test_the_active_gauge_counts_each_schedule_once_until_forgotten() -> None:
    counter = RunCounter(Metrics(), started=START)
    for name, active in [("a", True), ("b", True), ("a", True), ("c", False), ("b", False)]:
        counter.set_active(("ns", name), active)
    counter.set_active(("ns", "d"), True)
    counter.forget(("ns", "d"))

    assert samples(counter.metrics)[("kagent_scheduledrun_active_schedules", ())] == 1


def test_the_series_of_a_deleted_scheduledrun_are_removed() -> None:
    metrics = Metrics()
    counter = RunCounter(metrics, started=START)
    counter.observe(("ns", "gone"), [entry("gone-1", "Succeeded", 1, 2)])
    counter.observe(("ns", "kept"), [entry("kept-1", "Failed", 1, 2)])

    counter.forget(("ns", "gone"))

    names = {dict(labels).get("name") for _, labels in samples(metrics)}
    assert "gone" not in names
    assert "kept" in names


def test_a_quick_run_is_measured_to_the_millisecond() -> None:
    start = datetime(2026, 3, 1, 12, 0, 0, 120_000, tzinfo=UTC)
    pending = history.new_pending("job-1", "Manual", None, start)
    ended = history.finished(pending, "Succeeded", "ok", start + timedelta(milliseconds=250))

    assert (pending["startTime"], ended["endTime"]) == (
        "2026-03-01T12:00:00.120Z",
        "2026-03-01T12:00:00.370Z",
    )
    assert observation(ended).run_seconds == pytest.approx(0.25)


def test_no_created_series() -> None:
    metrics = Metrics()
    counter = RunCounter(metrics, started=datetime(2026, 3, 1, tzinfo=UTC))
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    ended = history.finished(
        history.new_pending("job-1", "Scheduled", start, start), "Succeeded", "ok", start
    )
    counter.observe(("ns", "sr"), [ended])

    text = generate_latest(metrics.registry).decode()
    assert "kagent_scheduledrun_outcome_total" in text
    assert "_created" not in text
