"""Prometheus metrics of the operator: kagent's four ScheduledRun series, with kagent's names,
labels, values and meanings (go/core/internal/metrics/scheduledrun.go and the scheduler that
feeds them), and two series of this project's own under names kagent does not use.

kagent's, as its controller counts them when it sends a run's prompt itself:
- `kagent_scheduledrun_dispatch_total{namespace,name,status}`: one per run, once the send is
  settled; `status` is the entry's status after the send: `Pending` (the agent took the prompt)
  or `DispatchFailed` (it did not; here also a run that ended without ever reaching the agent).
- `kagent_scheduledrun_dispatch_duration_seconds{namespace,name}`: how long the A2A send took,
  buckets 0.1 s x 2^n (ten); the runner measures it and writes it in the entry
  (`dispatchSeconds`), so the figure is the send's own, not a guess from timestamps. A run that
  failed before any send (no agent card, a refused spec) has none and adds no observation.
- `kagent_scheduledrun_outcome_total{namespace,name,outcome}`: the outcome of a dispatched run
  (`Succeeded`, `Failed`, `Timeout`); a DispatchFailed run has no outcome of its own, as in
  kagent (the dispatch counter carries it).
- `kagent_scheduledrun_active_schedules`: ScheduledRuns whose schedule fires (accepted, not
  suspended, not paused or stopped by a policy).

This project's own: `kagent_scheduledrun_start_delay_seconds` (from a scheduled run's tick to its
runner's start: how late the CronJob, the scheduler and the pod made it) and
`kagent_scheduledrun_run_duration_seconds{outcome}` (from a run's start to its end, every ended
run), plus `kagent_scheduledrun_api_requests_total` (the operator's own Kubernetes requests).

Runs are counted from `status.runHistory` as the operator sees entries change, so the runner (a
short-lived pod) needs no metrics endpoint of its own. An operator restart must not count old
runs again, so `RunCounter` counts a dispatch only when it happened, and an outcome only when it
came, not before this process started; and it remembers per object the ids it counted, so the
many events of one object count each run once. The price: what happened while no operator was
running is never counted; the choice is deliberate, since a counter that can double-count is
worse than one that can lag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from generator.schedule import cron, hashed
from runner import conditions, delivery, history, spec_fields
from runner.api import ANNOTATION_SCHEDULED_TIME, ObjectKey

# The dispatch counter's `status`: the entry's status after the send, as kagent labels it.
DISPATCH_PENDING: Final = "Pending"
DISPATCH_FAILED: Final = "DispatchFailed"

# kagent's: prometheus.ExponentialBuckets(0.1, 2, 10), 0.1 s to 51.2 s.
DISPATCH_BUCKETS: Final = tuple(0.1 * 2**n for n in range(10))
# Runs last from seconds to the 15-minute default timeout and beyond (timeouts up to hours).
RUN_BUCKETS: Final = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
# From the tick to the runner's start: pod scheduling and start-up, normally seconds.
START_DELAY_BUCKETS: Final = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


# The interval of a schedule is the widest gap between consecutive fire times among the next
# INTERVAL_TICKS: a weekday schedule's weekend counts, so an alert on "no success for N intervals"
# does not fire every Monday morning.
INTERVAL_TICKS: Final = 8


@dataclass(slots=True)
class ScheduleValues:
    """One ScheduledRun's per-schedule gauges; None: no sample (no success yet is still a
    sample, see `last_success`). The interval is exported only while the schedule fires; it is
    computed again only when the (schedule, zone) it was computed for changes."""

    last_success: float | None = None
    paused: int = 0
    firing: bool = False
    schedule: tuple[str, str] | None = None
    schedule_interval: float | None = None

    @property
    def interval(self) -> float | None:
        return self.schedule_interval if self.firing else None


class ScheduleGauges(Collector):
    """The per-ScheduledRun gauges alerts read, {namespace,name}-labelled, built at each scrape
    from one small record per ScheduledRun."""

    FAMILIES: Final = (
        (
            "kagent_scheduledrun_last_success_timestamp_seconds",
            "When the newest successful run ended (Unix time); the ScheduledRun's creation until "
            "one has, so that a schedule that never succeeds is noticed too.",
            "last_success",
        ),
        (
            "kagent_scheduledrun_schedule_interval_seconds",
            "The widest gap between the schedule's next fire times; present only while the "
            "schedule fires (accepted, not suspended, paused or stopped).",
            "interval",
        ),
        (
            "kagent_scheduledrun_paused",
            "1 while spec.pauseAfterFailures holds the schedule (condition Paused), else 0.",
            "paused",
        ),
    )

    def __init__(self) -> None:
        self.values: dict[ObjectKey, ScheduleValues] = {}

    def collect(self) -> Iterable[Metric]:
        for name, documentation, attribute in self.FAMILIES:
            family = GaugeMetricFamily(name, documentation, labels=["namespace", "name"])
            for (namespace, sr_name), values in list(self.values.items()):
                value = getattr(values, attribute)
                if value is not None:
                    family.add_metric([namespace, sr_name], value)
            yield family

    def describe(self) -> Iterable[Metric]:
        return [
            GaugeMetricFamily(name, documentation, labels=["namespace", "name"])
            for name, documentation, _ in self.FAMILIES
        ]


class Metrics:
    """The operator's metric families, in their own registry (tests make as many as they like)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # No `*_created` series: a timestamp per label set that doubles the series and that no
        # dashboard reads (prometheus_client's switch is process-wide).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.dispatch = Counter(
            "kagent_scheduledrun_dispatch_total",
            "Total number of ScheduledRun dispatch attempts, labelled by dispatch status "
            "(Pending: the agent took the prompt; DispatchFailed: it did not).",
            ["namespace", "name", "status"],
            registry=r,
        )
        self.outcome = Counter(
            "kagent_scheduledrun_outcome_total",
            "Total number of ScheduledRun resolved outcomes of dispatched runs "
            "(Succeeded, Failed, Timeout).",
            ["namespace", "name", "outcome"],
            registry=r,
        )
        self.dispatch_duration = Histogram(
            "kagent_scheduledrun_dispatch_duration_seconds",
            "Duration of the synchronous A2A dispatch call, as the runner measured it.",
            ["namespace", "name"],
            buckets=DISPATCH_BUCKETS,
            registry=r,
        )
        self.delivery = Counter(
            "kagent_scheduledrun_delivery_total",
            "Deliveries of runs' answers (spec.delivery), by result per destination (Delivered,"
            " Failed, Skipped).",
            ["namespace", "name", "result"],
            registry=r,
        )
        self.active = Gauge(
            "kagent_scheduledrun_active_schedules",
            "Number of ScheduledRuns currently scheduled (accepted; excludes suspended).",
            registry=r,
        )
        self.start_delay = Histogram(
            "kagent_scheduledrun_start_delay_seconds",
            "From a scheduled run's tick to its runner's start (how late the run began).",
            ["namespace", "name"],
            buckets=START_DELAY_BUCKETS,
            registry=r,
        )
        self.run_duration = Histogram(
            "kagent_scheduledrun_run_duration_seconds",
            "From a run's start to its end, by outcome (every ended run, DispatchFailed too).",
            ["namespace", "name", "outcome"],
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.job_creation_delay = Histogram(
            "kagent_scheduledrun_job_creation_delay_seconds",
            "From a tick to its Job's creation by the CronJob controller, for every scheduled "
            "Job (also one whose pod never starts): how far the controller is behind.",
            ["namespace", "name"],
            buckets=START_DELAY_BUCKETS,
            registry=r,
        )
        self.missed_runs = Counter(
            "kagent_scheduledrun_missed_runs_total",
            "Scheduled times that passed without a Job, by reason: Skipped (the CronJob "
            "controller moved past it: it fell behind, or concurrencyPolicy Forbid held it while "
            "a run was active) or DeadlineExceeded "
            "(not started within startingDeadlineSeconds).",
            ["namespace", "name", "reason"],
            registry=r,
        )
        self.fullest_minute = Gauge(
            "kagent_scheduledrun_fullest_minute_schedules",
            "How many firing ScheduledRuns share the fullest minute of the coming day (the "
            "CronJob controller makes a minute's Jobs at a limited rate; compare with the "
            "operator's --hot-minute-capacity).",
            registry=r,
        )
        # One value each per ScheduledRun, kept in `schedules` and written out at each scrape
        # (ScheduleGauges): a labelled child per ScheduledRun and gauge cost 0.7 KB each.
        self.schedules = ScheduleGauges()
        r.register(self.schedules)
        self.reconcile_errors = Counter(
            "kagent_scheduledrun_reconcile_errors_total",
            "Reconciles that failed on an API error and were put back to try again later.",
            registry=r,
        )
        self.api_requests = Counter(
            "kagent_scheduledrun_api_requests_total",
            "Kubernetes API requests the operator made itself, by verb and response code.",
            ["verb", "code"],
            registry=r,
        )


@dataclass(frozen=True)
class Dispatch:
    """A run's settled send: kagent's dispatch status, the send's duration as the runner
    measured it (None: nothing was measured), and when it was settled (None: unknown)."""

    status: str
    seconds: float | None
    at: datetime | None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def dispatch_of(entry: Mapping[str, Any]) -> Dispatch | None:
    """The entry's dispatch once settled, or None while the send may still be going."""
    seconds = _seconds(entry.get("dispatchSeconds"))
    start = history.parse_time(entry.get("startTime"))
    end = history.parse_time(entry.get("endTime"))
    if entry.get("status") == DISPATCH_FAILED:
        return Dispatch(DISPATCH_FAILED, seconds, end)
    if entry.get("sessionID") or entry.get("taskID"):  # the runner records them once sent
        # The send ended at most `seconds` after the runner started; near enough for "did it
        # happen before this operator started".
        at = start + timedelta(seconds=seconds or 0.0) if start else end
        return Dispatch(DISPATCH_PENDING, seconds, at)
    if history.is_terminal(entry):
        # Ended (Failed, Timeout) without a send the agent took: the prompt was not delivered.
        return Dispatch(DISPATCH_FAILED, None, end)
    return None


@dataclass(frozen=True)
class Observation:
    """What one ended run contributes to the metrics."""

    outcome: str
    dispatched: bool
    start_delay_seconds: float | None
    run_seconds: float | None


def observation(entry: Mapping[str, Any]) -> Observation:
    """What a terminal entry contributes to the metrics."""
    start = history.parse_time(entry.get("startTime"))
    end = history.parse_time(entry.get("endTime"))
    scheduled = history.parse_time(entry.get("scheduledTime"))
    settled = dispatch_of(entry)
    return Observation(
        outcome=str(entry.get("status")),
        dispatched=settled is not None and settled.status == DISPATCH_PENDING,
        start_delay_seconds=(start - scheduled).total_seconds() if start and scheduled else None,
        run_seconds=(end - start).total_seconds() if start and end else None,
    )


def newly_dispatched(
    run_history: Sequence[Mapping[str, Any]], seen: Iterable[str], since: datetime
) -> list[tuple[Mapping[str, Any], Dispatch]]:
    """Entries whose send settled, not yet counted, not before `since` (the operator's start)."""
    counted = set(seen)
    fresh = []
    for entry in run_history:
        if entry.get("id") in counted:
            continue
        settled = dispatch_of(entry)
        if settled is not None and settled.at is not None and settled.at >= since:
            fresh.append((entry, settled))
    return fresh


def schedule_interval(schedule: str, time_zone: str, now: datetime) -> float | None:
    """The widest gap in seconds between the next INTERVAL_TICKS fire times; None when the
    schedule fires fewer than twice more (or cannot be read)."""
    try:
        parsed = cron.parse_schedule(schedule)
        if isinstance(parsed, cron.EverySchedule):
            return float(parsed.seconds) if parsed.seconds > 0 else None
        times = cron.next_fire_times(schedule, time_zone, now, INTERVAL_TICKS + 1)
    except cron.CronError:
        return None
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(times)]
    return max(gaps) if gaps else None


def last_success(sr: Mapping[str, Any]) -> datetime | None:
    """The end of the newest Succeeded entry, else the ScheduledRun's creation."""
    for entry in (sr.get("status") or {}).get("runHistory") or []:
        if entry.get("status") == "Succeeded":
            ended = history.parse_time(entry.get("endTime"))
            if ended is not None:
                return ended
    return history.parse_time((sr.get("metadata") or {}).get("creationTimestamp"))


def newly_finished(
    run_history: Sequence[Mapping[str, Any]], seen: Iterable[str], since: datetime
) -> list[Mapping[str, Any]]:
    """Terminal entries not yet counted whose end is not before `since` (the operator's start)."""
    counted = set(seen)
    fresh = []
    for entry in run_history:
        if not history.is_terminal(entry) or entry.get("id") in counted:
            continue
        end = history.parse_time(entry.get("endTime"))
        if end is not None and end >= since:
            fresh.append(entry)
    return fresh


def delivery_results(
    run_history: Sequence[Mapping[str, Any]], counted: Iterable[str], since: datetime
) -> list[tuple[str, str]]:
    """("<run id>/<destination>", result) of each final delivery result not yet counted, of runs
    that ended no earlier than `since` (the operator's start)."""
    done = set(counted)
    fresh = []
    for entry in run_history:
        end = history.parse_time(entry.get("endTime"))
        if end is None or end < since:
            continue
        for item in entry.get("delivery") or []:
            if not isinstance(item, Mapping) or item.get("result") not in delivery.FINAL_RESULTS:
                continue
            mark = f"{entry.get('id')}/{item.get('name')}"
            if mark not in done:
                fresh.append((mark, str(item["result"])))
    return fresh


def _compute_interval(values: ScheduleValues, sr: Mapping[str, Any], now: datetime) -> None:
    """Keep `values`' interval that of the ScheduledRun's current (schedule, zone)."""
    try:
        schedule = hashed.effective_schedule(sr)
    except cron.CronError:
        values.schedule, values.schedule_interval = None, None
        return
    which = (schedule, spec_fields.time_zone(sr.get("spec") or {}))
    if values.schedule != which:
        values.schedule, values.schedule_interval = which, schedule_interval(*which, now)


@dataclass
class RunCounter:
    """Counts each run's dispatch and its end once per operator process; see the module
    docstring."""

    metrics: Metrics
    started: datetime
    seen: dict[ObjectKey, frozenset[str]] = field(default_factory=dict)  # ended runs counted
    sent: dict[ObjectKey, frozenset[str]] = field(default_factory=dict)  # dispatches counted
    # Per object, "<run id>/<destination>" of each delivery result already counted.
    delivered: dict[ObjectKey, frozenset[str]] = field(default_factory=dict)
    active_keys: set[ObjectKey] = field(default_factory=set)
    # The labelled series of each ScheduledRun (family attribute, label values), removed when it
    # is deleted: otherwise every ScheduledRun ever seen would stay in /metrics, and churn would
    # grow the series without bound.
    series: dict[ObjectKey, set[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)

    def _series(self, key: ObjectKey, family: str, *labels: str) -> Any:
        self.series.setdefault(key, set()).add((family, labels))
        return getattr(self.metrics, family).labels(*labels)

    def observe(self, key: ObjectKey, run_history: Sequence[Mapping[str, Any]]) -> int:
        """Count the newly settled sends and newly ended runs of one ScheduledRun; returns how
        many runs ended."""
        namespace, name = key
        dispatched = newly_dispatched(run_history, self.sent.get(key, frozenset()), self.started)
        for entry, settled in dispatched:
            self._series(key, "dispatch", namespace, name, settled.status).inc()
            if settled.seconds is not None:
                self._series(key, "dispatch_duration", namespace, name).observe(settled.seconds)
            seen = observation(entry)
            if seen.start_delay_seconds is not None:
                self._series(key, "start_delay", namespace, name).observe(
                    max(seen.start_delay_seconds, 0.0)
                )
        ended = newly_finished(run_history, self.seen.get(key, frozenset()), self.started)
        for entry in ended:
            seen = observation(entry)
            if seen.dispatched:
                self._series(key, "outcome", namespace, name, seen.outcome).inc()
            if seen.run_seconds is not None:
                self._series(key, "run_duration", namespace, name, seen.outcome).observe(
                    max(seen.run_seconds, 0.0)
                )
        self._remember(self.sent, key, run_history, [e for e, _ in dispatched])
        self._remember(self.seen, key, run_history, ended)
        self._observe_deliveries(key, run_history)
        return len(ended)

    @staticmethod
    def _remember(
        memory: dict[ObjectKey, frozenset[str]],
        key: ObjectKey,
        run_history: Sequence[Mapping[str, Any]],
        counted: Sequence[Mapping[str, Any]],
    ) -> None:
        """Remember only ids still in the history: trimmed entries never come back, so the set
        stays at most maxRunHistory long."""
        present = {str(e.get("id")) for e in run_history}
        remembered = (memory.get(key, frozenset()) | {str(e.get("id")) for e in counted}) & present
        if remembered:
            memory[key] = frozenset(remembered)
        else:
            memory.pop(key, None)

    def _observe_deliveries(self, key: ObjectKey, run_history: Sequence[Mapping[str, Any]]) -> None:
        """Count each destination's final result once (it is recorded after the run's end, so
        apart from the run); the same start-time rule as the runs."""
        counted = self.delivered.get(key, frozenset())
        fresh = delivery_results(run_history, counted, self.started)
        namespace, name = key
        for _, result in fresh:
            self._series(key, "delivery", namespace, name, result).inc()
        present = {
            f"{e.get('id')}/{d.get('name')}"
            for e in run_history
            for d in e.get("delivery") or []
            if isinstance(d, Mapping)
        }
        remembered = (counted | {mark for mark, _ in fresh}) & present
        if remembered:
            self.delivered[key] = frozenset(remembered)
        else:
            self.delivered.pop(key, None)

    def job_created(self, key: ObjectKey, job: Mapping[str, Any]) -> float | None:
        """Observe a new scheduled Job's delay after its tick (manual Jobs, and Jobs made before
        this process started, are not observed); the delay in seconds, or None."""
        meta = job.get("metadata") or {}
        created = history.parse_time(meta.get("creationTimestamp"))
        tick = history.parse_time((meta.get("annotations") or {}).get(ANNOTATION_SCHEDULED_TIME))
        if created is None or tick is None or created < self.started:
            return None
        delay = max(0.0, (created - tick).total_seconds())
        self._series(key, "job_creation_delay", *key).observe(delay)
        return delay

    def missed(self, key: ObjectKey, reasons: Sequence[str]) -> None:
        """Count the ticks a reconcile found passed without a Job (once: the status write that
        recorded them succeeded)."""
        for reason in reasons:
            self._series(key, "missed_runs", *key, reason).inc()

    def observe_schedule(
        self, key: ObjectKey, sr: Mapping[str, Any], active: bool, now: datetime
    ) -> None:
        """The per-schedule gauges alerts read: last success, interval (while it fires), pause."""
        values = self.metrics.schedules.values.setdefault(key, ScheduleValues())
        succeeded = last_success(sr)
        if succeeded is not None:
            values.last_success = succeeded.timestamp()
        status = sr.get("status") or {}
        paused = conditions.find(status, conditions.ConditionType.PAUSED)
        held = paused is not None and paused.get("status") == "True"
        values.paused = 1 if held else 0
        values.firing = active and not held
        if values.firing:
            _compute_interval(values, sr, now)
        self.set_active(key, active)

    def set_active(self, key: ObjectKey, active: bool) -> None:
        if active:
            self.active_keys.add(key)
        else:
            self.active_keys.discard(key)
        self.metrics.active.set(len(self.active_keys))

    def forget(self, key: ObjectKey) -> None:
        """The ScheduledRun is gone: drop its memory and its series (a rate over a counter that
        vanishes is what Prometheus expects of a deleted object)."""
        self.seen.pop(key, None)
        self.sent.pop(key, None)
        self.delivered.pop(key, None)
        self.set_active(key, False)
        self.metrics.schedules.values.pop(key, None)
        for family, labels in self.series.pop(key, set()):
            getattr(self.metrics, family).remove(*labels)
