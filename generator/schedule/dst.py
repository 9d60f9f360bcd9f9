"""Daylight-saving changes of a time zone, and which wall-clock times a schedule loses or doubles
at each one, as the CronJob controller (robfig/cron v3) fires them.

At a spring-forward change the wall-clock times of the gap do not exist: a schedule that names
one of them does not fire at it that day. At a fall-back change the wall-clock times of the
overlap happen twice: a schedule that names one of them fires twice. `@every` counts elapsed time
and ignores the zone, so it is affected by neither.

Which wall-clock times a schedule names is asked of the one cron engine (`next_fire_times` in
UTC, where wall clock and instant are the same), so there is no second reading of cron here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from generator.schedule.cron import EverySchedule, load_time_zone, next_fire_times, parse_schedule

# How far ahead changes are looked for at least: a year holds every change of a zone's rules.
HORIZON: Final = timedelta(days=366)
# Zones change offset at most a few times a year; stepping a day at a time finds each change,
# then bisection finds its second.
_STEP: Final = timedelta(days=1)
# More wall-clock times than this in one gap or overlap are summed up, not listed (`* * * * *`).
MAX_LISTED: Final = 12


@dataclass(frozen=True)
class Transition:
    """One change of a zone's UTC offset: at `instant`, wall clocks jump from `before` to
    `after` (naive wall-clock times; `after` < `before` when clocks go back)."""

    instant: datetime
    before: datetime
    after: datetime

    @property
    def kind(self) -> Literal["skip", "repeat"]:
        return "skip" if self.after > self.before else "repeat"


@dataclass(frozen=True)
class DstNote:
    """A change of the zone and the wall-clock times this schedule skips or fires twice there."""

    transition: Transition
    times: tuple[datetime, ...]  # naive wall-clock times, oldest first
    more: bool  # more than MAX_LISTED times are affected


def transitions(time_zone: str, start: datetime, end: datetime) -> list[Transition]:
    """Every change of `time_zone`'s UTC offset in (start, end], oldest first."""
    zone = load_time_zone(time_zone)

    def offset(instant: datetime) -> timedelta:
        return instant.astimezone(zone).utcoffset() or timedelta(0)

    found: list[Transition] = []
    low = start.astimezone(UTC).replace(microsecond=0)
    while low < end:
        high = min(low + _STEP, end)
        if offset(low) != offset(high):
            lo, hi = low, high  # offset(lo) != offset(hi): find the first second of the new one
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if offset(mid) == offset(lo):
                    lo = mid
                else:
                    hi = mid
            wall_before = (hi + offset(lo)).replace(tzinfo=None)
            wall_after = (hi + offset(hi)).replace(tzinfo=None)
            found.append(Transition(hi, wall_before, wall_after))
        low = high
    return found


def wall_times(schedule: str, start: datetime, end: datetime) -> tuple[list[datetime], bool]:
    """The wall-clock times in [start, end) (naive) that `schedule` names, at most MAX_LISTED,
    and whether there were more."""
    after = start.replace(tzinfo=UTC) - timedelta(seconds=1)
    times = [
        t.replace(tzinfo=None)
        for t in next_fire_times(schedule, "UTC", after, MAX_LISTED + 1)
        if t.replace(tzinfo=None) < end
    ]
    return times[:MAX_LISTED], len(times) > MAX_LISTED


def dst_notes(
    schedule: str, time_zone: str, after: datetime, until: datetime | None = None
) -> list[DstNote]:
    """The zone's changes from `after` to `until` (at least HORIZON ahead), each with the
    wall-clock times this schedule skips (gap) or fires twice (overlap). The schedule and zone
    must be valid. None for `@every`, which ignores the zone."""
    if isinstance(parse_schedule(schedule), EverySchedule):
        return []
    end = max(until or after, after + HORIZON)
    notes: list[DstNote] = []
    for change in transitions(time_zone, after, end):
        first, last = sorted((change.before, change.after))
        times, more = wall_times(schedule, first, last)
        notes.append(DstNote(change, tuple(times), more))
    return notes
