"""The hot-minute warning: ScheduledRuns that fire in a minute shared by more of them than the
CronJob controller makes Jobs for in a minute (the operator's `--hot-minute-capacity`, measured
by bench/ticklag.py).

The operator knows every schedule. `HotMinutes` keeps the firing ScheduledRuns (accepted, not
suspended or held) and, when they change or the hour turns, computes the next day's load with
generator/schedule/load.py; a ScheduledRun whose crowded state changed is reconciled, and its
plan writes the `HotMinute` condition (`condition` here) and posts a warning event once. The
condition's message names the schedule and the capacity, never the count or the time, which move
with every ScheduledRun added and every hour: a stable message keeps a burst of creations from
rewriting every crowded status again and again. The count and the time go into the event and the
fullest-minute metric.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from generator.schedule import cron, load
from generator.spec.policies import Event
from runner import conditions, history
from runner.api import ObjectKey
from runner.conditions import ConditionType, Reason

# The default capacity: bench/ticklag.py measured the CronJob controller at its default settings
# (`--concurrent-cron-job-syncs=5`, `--kube-api-qps=20`, two writes per Job) making about 500
# Jobs in a minute on the dev control plane, the last of them almost a minute late; 400 leaves
# room for the other controllers sharing its client and for a slower apiserver. Raise it with the
# controller-manager's flags (README: "Capacity").
DEFAULT_CAPACITY: Final = 400
# How often the operator looks whether the load must be computed again (no I/O when not).
LOOK_EVERY: Final = 5.0
# The window is recomputed at each hour's start (and when a schedule changes): it reaches a day
# ahead of the hour, so a minute already past within the hour is still counted until then.
WINDOW_MINUTES: Final = load.WINDOW_MINUTES + 60


def condition(
    crowded: load.Crowded | None,
    capacity: int,
    schedule: str,
    current: Mapping[str, Any] | None,
    now: datetime,
) -> tuple[dict[str, Any] | None, Event | None]:
    """The `HotMinute` condition while `crowded` (None: none), and the warning event when it
    appears. `schedule` as written; `current`: the condition the status holds."""
    if crowded is None:
        return None, None
    hint = (
        f"; {json.dumps(crowded.suggestion)} keeps the hour and gives it its own minute"
        if crowded.suggestion
        else ""
    )
    message = (
        f"spec.schedule {json.dumps(schedule)} fires in a minute shared by more ScheduledRuns than"
        f" the CronJob controller is set to start in one ({capacity}): some runs will start late"
        f" or be skipped{hint}"
    )
    since = current.get("lastTransitionTime") if current else None
    found = {
        "type": ConditionType.HOT_MINUTE,
        "status": "True",
        "reason": Reason.ABOVE_CAPACITY,
        "message": message,
        "lastTransitionTime": since or history.format_time(now),
    }
    event = None
    if current is None:
        event = Event(
            "Warning",
            Reason.ABOVE_CAPACITY,
            f"{crowded.count} ScheduledRuns fire at {history.format_time(crowded.at)}, above the"
            f" capacity of {capacity} per minute{hint}",
        )
    return found, event


@dataclass
class HotMinutes:
    """The firing schedules and what their load says (state, no I/O)."""

    capacity: int
    firings: dict[ObjectKey, load.Firing] = field(default_factory=dict)
    crowded: dict[ObjectKey, load.Crowded] = field(default_factory=dict)
    fullest: tuple[datetime, int] | None = None
    dirty: bool = False
    computed_for: datetime | None = None  # the window start of the last computation
    fires: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)

    def note(self, key: ObjectKey, firing: load.Firing | None) -> None:
        """What `key` fires now (None: it does not, or is gone)."""
        before = self.firings.get(key)
        if firing is None:
            self.firings.pop(key, None)
        else:
            self.firings[key] = firing
        if before != firing:
            self.dirty = True

    def due(self, now: datetime) -> bool:
        """Whether the load should be computed again: a schedule changed, or the hour turned."""
        return self.dirty or self.computed_for != window_start(now)

    def compute(self, now: datetime) -> set[ObjectKey]:
        """The load over the window; the ScheduledRuns whose crowded state changed."""
        start = window_start(now)
        if self.computed_for != start:
            self.fires = {}  # minutes are offsets from the window start
        grouped = load.groups(self.firings.values())
        for which in grouped:
            if which not in self.fires:
                try:
                    self.fires[which] = cron.fire_minutes(*which, start, WINDOW_MINUTES)
                except cron.CronError:
                    self.fires[which] = ()
        minute_load = load.minute_load(grouped, self.fires, start, WINDOW_MINUTES)
        crowded = load.crowded_in(minute_load, grouped, self.fires, self.capacity)
        # Only those still firing: one that stopped has had its reconcile, which drops the
        # condition of a schedule that does not fire.
        changed = {
            key
            for key in (self.crowded.keys() | crowded.keys()) & self.firings.keys()
            if (key in self.crowded) != (key in crowded)
            or _suggestion(self.crowded.get(key)) != _suggestion(crowded.get(key))
        }
        self.crowded, self.fullest = crowded, minute_load.fullest()
        self.computed_for, self.dirty = start, False
        return changed

    def forget(self, key: ObjectKey) -> None:
        self.note(key, None)


def _suggestion(crowded: load.Crowded | None) -> str | None:
    return crowded.suggestion if crowded else None


def window_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def next_hour(now: datetime) -> datetime:
    return window_start(now) + timedelta(hours=1)


def find(status: Mapping[str, Any]) -> dict[str, Any] | None:
    return conditions.find(status, ConditionType.HOT_MINUTE)
