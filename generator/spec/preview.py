"""The fire-time preview of a ScheduledRun: its next times as the CronJob controller will fire
them, those the policies let through, and why others will not.

One computation for `scheduledrun next` (generator/cli/offline.py prints it) and the REST API's
`.../next` and validate routes (the server answers it as JSON). Pure: the object, an instant and
a count in, a `Preview` out. `H` in the schedule is expanded for the object's namespace (else
`namespace`) and name, as the operator will expand it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from generator.schedule.cron import CronError, next_fire_times
from generator.schedule.hashed import HashError, effective_schedule
from generator.spec.policies import upcoming
from generator.spec.validate import Problem, validate_scheduledrun
from runner import spec_fields
from runner.conditions import Reason

# Problems of these fields make fire times impossible to compute; any other is only noted.
TIME_FIELDS: Final = ("spec.schedule", "spec.timeZone")


@dataclass(frozen=True)
class Preview:
    """What `preview` found. With `blocking` problems there are no times; `problems` holds every
    problem of the object, blocking or not."""

    time_zone: str
    suspended: bool
    problems: tuple[Problem, ...]
    blocking: tuple[Problem, ...] = ()
    schedule: str | None = None  # as the CronJob carries it: `H` expanded
    times: tuple[datetime, ...] = ()  # the next fire times the policies let through
    notes: tuple[str, ...] = ()  # why some fire times will not fire (endTime, maxRuns, a pause)
    found: int = 0  # how many fire times the schedule has within the count (policies aside)


def blocks_fire_times(problem: Problem) -> bool:
    """Whether `problem` leaves no schedule or zone to compute fire times from."""
    return problem.field in ("", "spec") or problem.field.startswith(TIME_FIELDS)


def preview(
    obj: Mapping[str, Any], after: datetime, count: int, namespace: str = "default"
) -> Preview:
    """The next `count` fire times of `obj` after `after`, or the problems that prevent them."""
    problems = tuple(validate_scheduledrun(obj))
    spec = obj.get("spec") if isinstance(obj, Mapping) else None
    if not isinstance(spec, Mapping):
        spec = {}
    base = Preview(spec_fields.time_zone(spec), spec_fields.suspend(spec), problems)
    blocking = tuple(p for p in problems if blocks_fire_times(p))
    if blocking:
        return dataclasses.replace(base, blocking=blocking)
    meta = dict(obj.get("metadata") or {})
    meta["namespace"] = meta.get("namespace") or namespace
    try:
        schedule = effective_schedule({**obj, "metadata": meta})
        times = next_fire_times(schedule, base.time_zone, after, count)
    except (CronError, HashError) as exc:
        problem = Problem(Reason.INVALID_SCHEDULE, "spec.schedule", str(exc))
        return dataclasses.replace(base, blocking=(problem,))
    allowed, notes = upcoming(obj, times)
    return dataclasses.replace(
        base, schedule=schedule, times=tuple(allowed), notes=tuple(notes), found=len(times)
    )
