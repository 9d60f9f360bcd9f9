"""How many ScheduledRuns fire at each minute: the load Kubernetes' CronJob controller meets.

The controller makes each tick's Jobs through a rate-limited client (two writes per CronJob per
tick), so when too many schedules share one minute it falls behind, and a CronJob whose tick it
reaches late gets a Job for its most recent missed time only: the others never run.
`bench/ticklag.py` measures how many Jobs per minute it makes. This module knows every schedule
and says which minutes hold more than that capacity, who fires then, and the `H` form of a
schedule that would spread it (generator/schedule/hashed.py). Pure: schedules and an instant in,
counts out. `@every` schedules count from their CronJob's creation and are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from generator.schedule import cron, hashed
from runner import spec_fields
from runner.api import ObjectKey

# The window looked at: a day covers every daily schedule, which is what many tenants write alike
# (`0 9 * * *`); a weekly one collides within it on its day.
WINDOW_MINUTES: Final = 24 * 60
# The macros, as the five fields they stand for (robfig's table).
MACROS: Final = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_SPACE: Final = re.compile(f"[{re.escape(cron.GO_SPACE)}]+")
_NUMBER: Final = re.compile(r"\+?[0-9]+")
_STEP: Final = re.compile(r"(\*|\+?[0-9]+-\+?[0-9]+|\+?[0-9]+)/(\+?[0-9]+)")


@dataclass(frozen=True)
class Firing:
    """One ScheduledRun's schedule as its CronJob carries it (`H` expanded), in its zone."""

    key: ObjectKey
    schedule: str
    time_zone: str
    written: str = ""  # spec.schedule as written: what an `H` suggestion starts from


@dataclass(frozen=True)
class Crowded:
    """A ScheduledRun fires at a minute shared by more schedules than the capacity."""

    at: datetime  # the first such minute within the window
    count: int  # how many ScheduledRuns fire then (this one included)
    suggestion: str | None  # the same schedule with its minute hashed, when one exists


@dataclass(frozen=True)
class Load:
    """Fires per minute over [start, start + minutes)."""

    start: datetime
    minutes: int
    counts: Mapping[int, int]  # minute offset from start -> ScheduledRuns firing then

    def fullest(self) -> tuple[datetime, int] | None:
        """The minute with the most fires (the earliest of equals), None when nothing fires."""
        if not self.counts:
            return None
        offset = min(self.counts, key=lambda m: (-self.counts[m], m))
        return self.start + timedelta(minutes=offset), self.counts[offset]


def firing(sr: Mapping[str, Any], namespace: str = "default") -> Firing | None:
    """The Firing of a ScheduledRun object, None when its schedule or zone cannot be read."""
    meta = dict(sr.get("metadata") or {})
    meta["namespace"] = meta.get("namespace") or namespace
    spec = sr.get("spec")
    if not isinstance(spec, Mapping):
        return None
    try:
        schedule = hashed.effective_schedule({**sr, "metadata": meta})
        zone = spec_fields.time_zone(spec)
        cron.parse_schedule(schedule)
        cron.validate_time_zone(zone)
    except (cron.CronError, TypeError, ValueError):
        return None
    key = (str(meta["namespace"]), str(meta.get("name") or ""))
    return Firing(key, schedule, zone, str(spec.get("schedule")))


def whole_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def groups(firings: Iterable[Firing]) -> dict[tuple[str, str], list[Firing]]:
    """Firings by (schedule, zone): identical schedules are computed once."""
    grouped: dict[tuple[str, str], list[Firing]] = {}
    for item in firings:
        grouped.setdefault((item.schedule, item.time_zone), []).append(item)
    return grouped


def minute_load(
    grouped: Mapping[tuple[str, str], Sequence[Firing]],
    fires: Mapping[tuple[str, str], Sequence[int]],
    start: datetime,
    minutes: int = WINDOW_MINUTES,
) -> Load:
    """The Load of `grouped` schedules, whose fire minutes `fires` holds (offsets from `start`,
    as `cron.fire_minutes` gives them)."""
    counts: Counter[int] = Counter()
    for which, keys in grouped.items():
        for offset in fires.get(which, ()):
            counts[offset] += len(keys)
    return Load(start, minutes, dict(counts))


def fire_table(
    grouped: Iterable[tuple[str, str]], start: datetime, minutes: int = WINDOW_MINUTES
) -> dict[tuple[str, str], tuple[int, ...]]:
    """Each (schedule, zone)'s fire minutes over the window."""
    return {which: cron.fire_minutes(*which, start, minutes) for which in grouped}


def crowded(
    firings: Iterable[Firing],
    now: datetime,
    capacity: int,
    minutes: int = WINDOW_MINUTES,
) -> tuple[Load, dict[ObjectKey, Crowded]]:
    """The load of the window from the minute after `now`, and the ScheduledRuns that fire at a
    minute where more than `capacity` fire."""
    start = whole_minute(now) + timedelta(minutes=1)
    grouped = groups(firings)
    fires = fire_table(grouped, start, minutes)
    load = minute_load(grouped, fires, start, minutes)
    return load, crowded_in(load, grouped, fires, capacity)


def crowded_in(
    load: Load,
    grouped: Mapping[tuple[str, str], Sequence[Firing]],
    fires: Mapping[tuple[str, str], Sequence[int]],
    capacity: int,
) -> dict[ObjectKey, Crowded]:
    """Who fires at a minute of `load` above `capacity`: its first such minute and count."""
    found: dict[ObjectKey, Crowded] = {}
    for which, members in grouped.items():
        hot = next((m for m in fires.get(which, ()) if load.counts[m] > capacity), None)
        if hot is None:
            continue
        at = load.start + timedelta(minutes=hot)
        for member in members:
            found[member.key] = Crowded(at, load.counts[hot], suggest_hashed(member.written))
    return found


def sharing(times: Sequence[datetime], others: Iterable[Firing]) -> list[int]:
    """For each of `times` (whole minutes), how many of `others` fire at that minute."""
    grouped = groups(others)
    shared = []
    for at in times:
        minute = whole_minute(at)
        shared.append(
            sum(
                len(members)
                for (schedule, zone), members in grouped.items()
                if cron.fire_minutes(schedule, zone, minute, 1)
            )
        )
    return shared


def suggest_hashed(schedule: str) -> str | None:
    """The same schedule with its minute field hashed, so each ScheduledRun keeps its own minute
    within the same hour (`0 9 * * *` -> `H 9 * * *`, `*/15 * * * *` -> `H/15 * * * *`,
    `@daily` -> `H 0 * * *`). None when the minute cannot spread: it already uses `H`, fires every
    minute, or is a list; or for `@every`."""
    text = MACROS.get(schedule.strip(), schedule)
    if text.startswith("@") or hashed.has_hash(text):
        return None
    fields = [f for f in _SPACE.split(text) if f]
    if len(fields) != len(hashed.FIELDS):
        return None
    minute = fields[0]
    if _NUMBER.fullmatch(minute):
        fields[0] = "H"
    elif (step := _STEP.fullmatch(minute)) is not None:
        span, every = step.groups()
        if int(every) <= 1:
            return None  # every minute: no minute to choose
        if span == "*" or (_NUMBER.fullmatch(span) and int(span) < int(every)):
            fields[0] = f"H/{int(every)}"
        elif "-" in span:
            fields[0] = f"H({span.replace('+', '')})/{int(every)}"
        else:
            return None
    else:
        return None
    return " ".join(fields)


def busiest_shared(
    own: Firing, others: Iterable[Firing], now: datetime, minutes: int = WINDOW_MINUTES
) -> tuple[datetime, int] | None:
    """The fire minute of `own` within the window after `now` that the most of `others` share,
    and how many do; None when it shares none (or does not fire in the window)."""
    start = whole_minute(now) + timedelta(minutes=1)
    mine = set(cron.fire_minutes(own.schedule, own.time_zone, start, minutes))
    if not mine:
        return None
    grouped = groups(o for o in others if o.key != own.key)
    counts = minute_load(grouped, fire_table(grouped, start, minutes), start, minutes).counts
    shared = {m: counts[m] for m in mine if counts.get(m)}
    if not shared:
        return None
    offset = min(shared, key=lambda m: (-shared[m], m))
    return start + timedelta(minutes=offset), shared[offset]
