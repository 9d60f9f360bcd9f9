"""generator.operator.metrics: which history entries count, kagent's names, labels, values and
buckets, that each run's dispatch and end count once per process and not again after a restart,
and the exposition text Prometheus scrapes (parsed with its own parser).

The /metrics endpoint of a running operator is covered by tests/integration/test_operator.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from generator.operator.metrics import (
    Dispatch,
    Metrics,
    RunCounter,
    dispatch_of,
    last_success,
    newly_finished,
    observation,
    schedule_interval,
)
from runner import history

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(
    run: str,
    status: str,
    start_min: int,
    end_min: int | None = None,
    sent: float | None = 0.25,
) -> dict[str, Any]:
    """A history entry; `sent`: the send's duration the runner recorded (None: nothing sent)."""
    e: dict[str, Any] = {
        "id": run,
        "status": status,
        "scheduledTime": (START + timedelta(minutes=start_min)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "startTime": (START + timedelta(minutes=start_min, seconds=3)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    if end_min is not None:
        e["endTime"] = (START + timedelta(minutes=end_min)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if sent is not None:
        e["dispatchSeconds"] = sent
        if status != "DispatchFailed":
            e["sessionID"] = f"ctx-{run}"
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


AT = START + timedelta(minutes=1, seconds=3)  # an entry's startTime with start_min=1


@pytest.mark.parametrize(
    ("e", "expected"),
    [
        pytest.param(entry("a", "Pending", 1, sent=None), None, id="not-sent-yet"),
        pytest.param(
            {**entry("a", "Pending", 1, sent=1.5), "sessionID": ""},
            None,
            id="measured-but-no-ids-yet",
        ),
        pytest.param(
            entry("a", "Pending", 1, sent=1.5),
            Dispatch("Pending", 1.5, AT + timedelta(seconds=1.5)),
            id="agent-took-it",
        ),
        pytest.param(
            entry("a", "Succeeded", 1, 2, sent=0.2),
            Dispatch("Pending", 0.2, AT + timedelta(seconds=0.2)),
            id="ended-after-the-send",
        ),
        pytest.param(
            entry("a", "DispatchFailed", 1, 2, sent=3.0),
            Dispatch("DispatchFailed", 3.0, START + timedelta(minutes=2)),
            id="send-failed",
        ),
        pytest.param(
            entry("a", "DispatchFailed", 1, 2, sent=None),
            Dispatch("DispatchFailed", None, START + timedelta(minutes=2)),
            id="failed-before-any-send",
        ),
        pytest.param(
            entry("a", "Timeout", 1, 2, sent=None),
            Dispatch("DispatchFailed", None, START + timedelta(minutes=2)),
            id="ended-without-reaching-the-agent",
        ),
        pytest.param(
            {**entry("a", "Pending", 1, sent=None), "sessionID": "ctx"},
            Dispatch("Pending", None, AT),
            id="sent-by-a-runner-that-measured-nothing",
        ),
    ],
)
def test_a_runs_dispatch_is_kagents_status_after_the_send(
    e: dict[str, Any], expected: Dispatch | None
) -> None:
    assert dispatch_of(e) == expected


def test_observation_of_a_dispatch_failure() -> None:
    seen = observation(entry("a", "DispatchFailed", 1, 2))

    assert (seen.outcome, seen.dispatched, seen.start_delay_seconds, seen.run_seconds) == (
        "DispatchFailed",
        False,
        3.0,
        57.0,
    )


def test_each_run_counts_once_across_many_events() -> None:
    counter = RunCounter(Metrics(), started=START)
    key = ("team-a", "nightly")
    dispatching = [entry("r1", "Pending", 1, sent=None)]
    sent = [entry("r1", "Pending", 1, sent=0.3)]
    done = [entry("r1", "Succeeded", 1, 2, sent=0.3)]
    second = [entry("r2", "Timeout", 16, 31, sent=6.5), *done]
    failed = [entry("r3", "DispatchFailed", 32, 33, sent=2.0), *second]

    counts = [counter.observe(key, h) for h in (dispatching, sent, sent, done, done, second,
                                                 second, failed, failed)]  # fmt: skip

    assert counts == [0, 0, 0, 1, 0, 1, 0, 1, 0]
    got = samples(counter.metrics)
    labels = (("name", "nightly"), ("namespace", "team-a"))
    assert got[("kagent_scheduledrun_outcome_total", (*labels, ("outcome", "Succeeded")))] == 1
    assert got[("kagent_scheduledrun_outcome_total", (*labels, ("outcome", "Timeout")))] == 1
    # kagent counts no outcome for a dispatch failure: its dispatch counter carries it.
    assert ("kagent_scheduledrun_outcome_total", (*labels, ("outcome", "DispatchFailed"))) not in (
        got
    )
    assert got[("kagent_scheduledrun_dispatch_total", (*labels, ("status", "Pending")))] == 2
    assert got[("kagent_scheduledrun_dispatch_total", (*labels, ("status", "DispatchFailed")))] == 1
    # Every send the runner measured, failed ones too, exactly as measured.
    assert got[("kagent_scheduledrun_dispatch_duration_seconds_count", labels)] == 3
    assert got[("kagent_scheduledrun_dispatch_duration_seconds_sum", labels)] == pytest.approx(
        0.3 + 6.5 + 2.0
    )
    assert got[("kagent_scheduledrun_start_delay_seconds_count", labels)] == 3
    run_count = (
        "kagent_scheduledrun_run_duration_seconds_count",
        (*labels, ("outcome", "Timeout")),
    )
    assert got[run_count] == 1
    run_sum = ("kagent_scheduledrun_run_duration_seconds_sum", (*labels, ("outcome", "Timeout")))
    assert got[run_sum] == 15 * 60 - 3


def test_a_dispatch_counts_when_the_agent_takes_the_prompt_not_when_the_run_ends() -> None:
    counter = RunCounter(Metrics(), started=START)
    counter.observe(("ns", "sr"), [entry("r1", "Pending", 1, sent=0.5)])

    got = samples(counter.metrics)
    labels = (("name", "sr"), ("namespace", "ns"))
    assert got[("kagent_scheduledrun_dispatch_total", (*labels, ("status", "Pending")))] == 1
    assert not any(name == "kagent_scheduledrun_outcome_total" for name, _ in got)


def test_dispatch_duration_buckets_are_kagents() -> None:
    counter = RunCounter(Metrics(), started=START)
    counter.observe(("ns", "sr"), [entry("r1", "Pending", 1, sent=0.5)])

    bounds = {
        dict(labels)["le"]
        for name, labels in samples(counter.metrics)
        if name == "kagent_scheduledrun_dispatch_duration_seconds_bucket"
    }
    # Go's prometheus.ExponentialBuckets(0.1, 2, 10) as its exposition writes them, then +Inf.
    go = ["0.1", "0.2", "0.4", "0.8", "1.6", "3.2", "6.4", "12.8", "25.6", "51.2", "+Inf"]
    assert bounds == set(go)


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

    assert (counter.seen[key], counter.sent[key]) == (frozenset({"r2"}), frozenset({"r2"}))


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


def test_each_delivery_result_counts_once_when_it_is_final() -> None:
    counter = RunCounter(Metrics(), started=START)
    key = ("team-a", "nightly")
    done = entry("r1", "Failed", 1, 2)
    sending = {**done, "delivery": [{"name": "ops", "result": "Sending"},
                                    {"name": "chat", "result": "Skipped"}]}  # fmt: skip
    delivered = {**done, "delivery": [{"name": "ops", "result": "Delivered"},
                                      {"name": "chat", "result": "Skipped"}]}  # fmt: skip
    old = {**entry("r0", "Failed", -10, -5), "delivery": [{"name": "ops", "result": "Failed"}]}
    for run_history in ([sending, old], [delivered, old], [delivered, old]):
        counter.observe(key, run_history)
    got = samples(counter.metrics)
    labels = (("name", "nightly"), ("namespace", "team-a"))
    delivery_total = "kagent_scheduledrun_delivery_total"
    assert got[(delivery_total, (*labels, ("result", "Delivered")))] == 1
    assert got[(delivery_total, (*labels, ("result", "Skipped")))] == 1
    assert (delivery_total, (*labels, ("result", "Failed"))) not in got  # ended before the start
    assert (delivery_total, (*labels, ("result", "Sending"))) not in got
    counter.forget(key)
    assert not [k for k in samples(counter.metrics) if k[0] == delivery_total]


def scheduled_job(created: str, tick: str | None) -> dict[str, Any]:
    annotations = {} if tick is None else {"batch.kubernetes.io/cronjob-scheduled-timestamp": tick}
    return {"metadata": {"name": "j", "creationTimestamp": created, "annotations": annotations}}


@pytest.mark.parametrize(
    ("job", "delay"),
    [
        pytest.param(
            scheduled_job("2026-03-01T12:05:37Z", "2026-03-01T12:05:00Z"), 37.0, id="late"
        ),
        pytest.param(scheduled_job("2026-03-01T12:05:37Z", None), None, id="manual-job"),
        pytest.param(
            scheduled_job("2026-03-01T11:59:30Z", "2026-03-01T11:59:00Z"), None, id="before-start"
        ),
    ],
)
def test_every_scheduled_job_s_creation_delay_is_observed(
    job: dict[str, Any], delay: float | None
) -> None:
    metrics = Metrics()
    counter = RunCounter(metrics, started=START)
    assert counter.job_created(("team", "nightly"), job) == delay
    labels = (("name", "nightly"), ("namespace", "team"))
    found = samples(metrics).get(("kagent_scheduledrun_job_creation_delay_seconds_sum", labels))
    assert found == delay


def sr_body(schedule: str, time_zone: str = "UTC", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": "a", "creationTimestamp": "2026-03-01T00:00:00Z"},
        "spec": {"schedule": schedule, "timeZone": time_zone},
        "status": status,
    }


def gauge(metrics: Metrics, family: str) -> dict[str, float]:
    text = generate_latest(metrics.registry).decode()
    return {
        s.labels["name"]: s.value
        for f in text_string_to_metric_families(text)
        if f.name == family
        for s in f.samples
    }


@pytest.mark.parametrize(
    ("schedule", "time_zone", "interval"),
    [
        pytest.param("*/5 * * * *", "UTC", 300.0, id="every-five-minutes"),
        pytest.param("@every 90s", "UTC", 90.0, id="every-duration"),
        # Sunday 1 March 2026: the next ticks run Monday to Friday; the weekend is the widest gap.
        pytest.param("0 9 * * 1-5", "UTC", 3 * 86400.0, id="weekdays-weekend-counts"),
        # New York leaves daylight-saving time on 1 November 2026: that night is an hour longer.
        pytest.param("0 0 * * *", "America/New_York", 86400.0 + 3600, id="dst-night"),
        pytest.param("0 0 30 2 *", "UTC", None, id="never-fires"),
    ],
)
def test_the_interval_is_the_widest_gap_between_the_next_ticks(
    schedule: str, time_zone: str, interval: float | None
) -> None:
    now = datetime(2026, 10, 28, 12, 0, tzinfo=UTC) if "York" in time_zone else START
    assert schedule_interval(schedule, time_zone, now) == interval


def test_last_success_is_the_newest_success_else_the_creation() -> None:
    body = sr_body(
        "@hourly", runHistory=[entry("r3", "Failed", 30, 31), entry("r2", "Succeeded", 20, 25)]
    )
    assert last_success(body) == START + timedelta(minutes=25)
    assert last_success(sr_body("@hourly", runHistory=[entry("r1", "Failed", 1, 2)])) == (
        datetime(2026, 3, 1, tzinfo=UTC)
    )


def test_the_schedule_gauges_follow_the_scheduledrun() -> None:
    metrics = Metrics()
    counter = RunCounter(metrics, START)
    key = ("ns", "a")
    body = sr_body("*/5 * * * *", runHistory=[entry("r1", "Succeeded", 0, 2)])
    counter.observe_schedule(key, body, active=True, now=START)
    assert gauge(metrics, "kagent_scheduledrun_schedule_interval_seconds") == {"a": 300.0}
    assert gauge(metrics, "kagent_scheduledrun_paused") == {"a": 0.0}
    assert gauge(metrics, "kagent_scheduledrun_last_success_timestamp_seconds") == {
        "a": (START + timedelta(minutes=2)).timestamp()
    }

    paused = {"type": "Paused", "status": "True", "reason": "PausedAfterFailures"}
    counter.observe_schedule(key, {**body, "status": {"conditions": [paused]}}, True, START)
    assert gauge(metrics, "kagent_scheduledrun_paused") == {"a": 1.0}
    assert gauge(metrics, "kagent_scheduledrun_schedule_interval_seconds") == {}

    counter.observe_schedule(key, body, active=False, now=START)  # suspended
    assert gauge(metrics, "kagent_scheduledrun_schedule_interval_seconds") == {}
    counter.forget(key)
    assert gauge(metrics, "kagent_scheduledrun_last_success_timestamp_seconds") == {}
    assert gauge(metrics, "kagent_scheduledrun_paused") == {}


def test_the_schedule_families_are_exposed_as_gauges_before_any_scheduledrun() -> None:
    text = generate_latest(Metrics().registry).decode()
    for name in (
        "kagent_scheduledrun_last_success_timestamp_seconds",
        "kagent_scheduledrun_schedule_interval_seconds",
        "kagent_scheduledrun_paused",
    ):
        assert f"# TYPE {name} gauge" in text
