"""Prometheus metrics of the operator, under the names kagent's dashboards know.

Runs are counted from `status.runHistory` as the operator sees entries become terminal, so the
runner (a short-lived pod) needs no metrics endpoint of its own. An operator restart must not
count old runs again, so `RunCounter` counts an entry only when its `endTime` is not before this
process started, and remembers per object the ids it counted, so the many events of one object
count each run once. The price: a run that ended while no operator was running is never counted;
the choice is deliberate, since a counter that can double-count is worse than one that can lag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

from runner import history
from runner.api import ObjectKey

DISPATCH_SUCCEEDED: Final = "success"
DISPATCH_FAILED: Final = "failure"

# Runs last from seconds to the 15-minute default timeout and beyond (timeouts up to hours).
RUN_BUCKETS: Final = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
# From the tick to the runner's start: pod scheduling and start-up, normally seconds.
DISPATCH_BUCKETS: Final = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


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
            "Runs by whether the runner dispatched the prompt to the agent (success, failure).",
            ["namespace", "name", "status"],
            registry=r,
        )
        self.outcome = Counter(
            "kagent_scheduledrun_outcome_total",
            "Finished runs by outcome (Succeeded, Failed, Timeout, DispatchFailed).",
            ["namespace", "name", "outcome"],
            registry=r,
        )
        self.dispatch_duration = Histogram(
            "kagent_scheduledrun_dispatch_duration_seconds",
            "From a run's scheduled time to its runner's start (how late the dispatch began).",
            ["namespace", "name"],
            buckets=DISPATCH_BUCKETS,
            registry=r,
        )
        self.run_duration = Histogram(
            "kagent_scheduledrun_run_duration_seconds",
            "From a run's start to its end, by outcome.",
            ["namespace", "name", "outcome"],
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.active = Gauge(
            "kagent_scheduledrun_active_schedules",
            "ScheduledRuns that are accepted and not suspended (their CronJob fires).",
            registry=r,
        )
        self.api_requests = Counter(
            "kagent_scheduledrun_api_requests_total",
            "Kubernetes API requests the operator made itself, by verb and response code.",
            ["verb", "code"],
            registry=r,
        )


@dataclass(frozen=True)
class Observation:
    """One finished run to count."""

    outcome: str
    dispatched: bool
    dispatch_seconds: float | None
    run_seconds: float | None


def observation(entry: Mapping[str, Any]) -> Observation:
    """What a terminal entry contributes to the metrics."""
    start = history.parse_time(entry.get("startTime"))
    end = history.parse_time(entry.get("endTime"))
    scheduled = history.parse_time(entry.get("scheduledTime"))
    outcome = str(entry.get("status"))
    return Observation(
        outcome=outcome,
        dispatched=outcome != "DispatchFailed",
        dispatch_seconds=(start - scheduled).total_seconds() if start and scheduled else None,
        run_seconds=(end - start).total_seconds() if start and end else None,
    )


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


@dataclass
class RunCounter:
    """Counts each run once per operator process; see the module docstring."""

    metrics: Metrics
    started: datetime
    seen: dict[ObjectKey, frozenset[str]] = field(default_factory=dict)
    active_keys: set[ObjectKey] = field(default_factory=set)
    # The labelled series of each ScheduledRun (family attribute, label values), removed when it
    # is deleted: otherwise every ScheduledRun ever seen would stay in /metrics, and churn would
    # grow the series without bound.
    series: dict[ObjectKey, set[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)

    def _series(self, key: ObjectKey, family: str, *labels: str) -> Any:
        self.series.setdefault(key, set()).add((family, labels))
        return getattr(self.metrics, family).labels(*labels)

    def observe(self, key: ObjectKey, run_history: Sequence[Mapping[str, Any]]) -> int:
        """Count the newly finished runs of one ScheduledRun; returns how many were counted."""
        fresh = newly_finished(run_history, self.seen.get(key, frozenset()), self.started)
        namespace, name = key
        for entry in fresh:
            seen = observation(entry)
            status = DISPATCH_SUCCEEDED if seen.dispatched else DISPATCH_FAILED
            self._series(key, "dispatch", namespace, name, status).inc()
            self._series(key, "outcome", namespace, name, seen.outcome).inc()
            if seen.dispatch_seconds is not None and seen.dispatched:
                self._series(key, "dispatch_duration", namespace, name).observe(
                    max(seen.dispatch_seconds, 0.0)
                )
            if seen.run_seconds is not None:
                self._series(key, "run_duration", namespace, name, seen.outcome).observe(
                    max(seen.run_seconds, 0.0)
                )
        # Remember only ids still in the history: trimmed entries never come back, so the set
        # stays at most maxRunHistory long.
        present = {str(e.get("id")) for e in run_history if history.is_terminal(e)}
        remembered = (self.seen.get(key, frozenset()) | {str(e.get("id")) for e in fresh}) & present
        if remembered:
            self.seen[key] = frozenset(remembered)
        else:
            self.seen.pop(key, None)
        return len(fresh)

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
        self.set_active(key, False)
        for family, labels in self.series.pop(key, set()):
            getattr(self.metrics, family).remove(*labels)
