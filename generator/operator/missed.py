"""Scheduled times that passed without a Job: the runs the CronJob controller never started.

The controller makes each tick's Job through a rate-limited client. When it reaches a CronJob
after that CronJob's next tick has come, it makes a Job for the most recent missed time only and
moves `status.lastScheduleTime` there: the earlier tick is `Skipped` (as is a tick that
`concurrencyPolicy: Forbid` held while a run was active: the controller moves past it the same
way, and no run happened either). With
`startingDeadlineSeconds`, a tick it reaches later than that is not started at all:
`DeadlineExceeded` (the controller posts a `MissSchedule` event on the CronJob and writes
nothing). Either way nothing in the ScheduledRun would say so; the operator judges each tick
after the fact from what it sees, with the rules below, and counts the misses in status.

Pure: the schedule, the last judged instant, the CronJob's `lastScheduleTime` and the ticks that
have a Job in, a `Judgement` out. A tick is decided once: started (a Job or a history entry
carries it as its scheduled time), missed, or not yet decided (the controller may still make
its Job); judging stops at the first undecided tick, so a later look sees it again. `@every`
schedules count from the CronJob's creation, which the controller keeps to itself: not judged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from generator.schedule import cron


class MissReason(StrEnum):
    SKIPPED = "Skipped"  # the controller moved past the tick without a Job (it fell behind)
    DEADLINE_EXCEEDED = "DeadlineExceeded"  # not started within startingDeadlineSeconds


# A Job the controller made before the deadline reaches the operator's cache within moments;
# a tick is called past its deadline this much after it, not at the very second.
DEADLINE_SLACK: Final = timedelta(seconds=5)
# Ticks judged in one look: the controller itself gives up counting after 100 missed times.
SCAN_MAX: Final = 100
# While a tick is undecided (the controller has not reached it), look again this soon.
RECHECK: Final = timedelta(seconds=30)


@dataclass(frozen=True)
class Missed:
    tick: datetime
    reason: MissReason


@dataclass(frozen=True)
class Judgement:
    missed: tuple[Missed, ...]
    through: datetime  # every tick up to and including this instant is decided
    undecided: datetime | None = None  # the first tick that is not (None: none yet)
    # The first tick after `through`, when known: until then there is nothing to judge, so the
    # next look need not search the schedule at all.
    next_tick: datetime | None = None


def judge(
    schedule: str,
    time_zone: str,
    since: datetime,
    now: datetime,
    last_scheduled: datetime | None,
    deadline_seconds: int | None,
    started: Collection[datetime],
    next_tick: datetime | None = None,
) -> Judgement:
    """The ticks of `schedule` in (since, now] that passed without a Job.

    `last_scheduled`: the CronJob's `status.lastScheduleTime` (the controller has moved past
    every tick before it); `deadline_seconds`: its `startingDeadlineSeconds`; `started`: the
    scheduled times that have a Job or a history entry; `next_tick`: the first tick after `since`
    when a previous judgement found it."""
    if next_tick is not None and next_tick > now:
        return Judgement((), since, None, next_tick)
    try:
        if isinstance(cron.parse_schedule(schedule), cron.EverySchedule):
            return Judgement((), now)
    except cron.CronError:
        return Judgement((), now)
    missed: list[Missed] = []
    through = since
    for _ in range(SCAN_MAX):  # one search per tick: usually none or one has passed
        found = cron.next_fire_times(schedule, time_zone, through, 1)
        if not found or found[0] > now:
            return Judgement(tuple(missed), through, None, found[0] if found else None)
        tick = found[0]
        if tick in started:
            pass
        elif last_scheduled is not None and last_scheduled > tick:
            missed.append(Missed(tick, MissReason.SKIPPED))
        elif (
            deadline_seconds is not None
            and now > tick + timedelta(seconds=deadline_seconds) + DEADLINE_SLACK
        ):
            missed.append(Missed(tick, MissReason.DEADLINE_EXCEEDED))
        else:
            return Judgement(tuple(missed), through, tick)
        through = tick
    return Judgement(tuple(missed), through)


def describe(missed: tuple[Missed, ...]) -> str:
    """The event's sentence: how many, when, and why, newest last."""
    shown = ", ".join(m.tick.strftime("%Y-%m-%dT%H:%M:%SZ") for m in missed[-5:])
    more = f" (and {len(missed) - 5} earlier)" if len(missed) > 5 else ""
    reasons = sorted({m.reason for m in missed})
    why = {
        MissReason.SKIPPED: "Skipped: the CronJob controller moved past it without a Job (it fell"
        " behind, or concurrencyPolicy Forbid held it while a run was active)",
        MissReason.DEADLINE_EXCEEDED: "DeadlineExceeded: not started within"
        " startingDeadlineSeconds",
    }
    count = len(missed)
    return (
        f"{count} scheduled run{'s' if count > 1 else ''} did not start: {shown}{more}"
        f" ({'; '.join(why[r] for r in reasons)})"
    )
