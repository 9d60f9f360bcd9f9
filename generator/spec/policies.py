"""Scheduling policies a CronJob does not have: pause after failures, and the stop rules.

Pure decisions over one ScheduledRun and the clock; `plan.make_plan` folds the answer into the
CronJob (suspended while a policy holds the schedule), the status and the events.

Pause after failures (`spec.pauseAfterFailures: N`). The streak is counted over
`status.runHistory`, newest first: `Scheduled` entries only (manual runs neither count nor break
it), `Pending` ones skipped (not ended yet), stopping at the first `Succeeded`, and only entries
started after `status.resumedAt`. At N the operator suspends the CronJob and sets the `Paused`
condition (True, `PausedAfterFailures`, the count and the last failure's message). The pause is
sticky: it ends only when someone acts, never because history was trimmed. It ends
- on any change of the spec (a new `metadata.generation`: `suspend: true` then `false`, a fixed
  prompt, a new target), or
- with the annotation `kagent.dev/resume` set to the pause's `lastTransitionTime` (what
  `scheduledrun resume` writes; naming the pause makes a stale annotation harmless), or
- when `pauseAfterFailures` is removed.
Then `status.resumedAt` is set to now, so the same failures cannot pause it again: the count
starts afresh. The history holds at most `maxRunHistory` entries, so N <= maxRunHistory is
enforced (admission and validation); manual runs take history slots too, so with many manual
runs between failures a streak can scroll out of sight (documented, not counted).

Stop rules. `spec.endTime` (RFC 3339): no scheduled run after it; the operator suspends the
CronJob when it passes (the requeue clock wakes at it) and the runner refuses a scheduled run
whose tick is later (a backstop for the seconds between). `spec.maxRuns`: at most N scheduled
runs; `status.scheduledRuns` is the count, incremented by the runner in the same write that
records the run (so exactly once per Job); at N the CronJob is suspended and the runner refuses
any further scheduled run. Either sets the `Stopped` condition (True, `EndTimeReached` or
`MaxRunsReached`) and clears `nextRunTime`. Raising or removing the limit starts it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from runner import api, conditions, history
from runner.conditions import ConditionType, EventReason, Reason

# The conditions this module owns.
CONDITIONS: Final = (ConditionType.PAUSED, ConditionType.STOPPED)
# The end time is a hard line; look a second after it, as after a tick.
AFTER_END: Final = timedelta(seconds=1)


@dataclass(frozen=True)
class Streak:
    count: int
    last_failure: Mapping[str, Any] | None  # the newest entry of the streak


@dataclass(frozen=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Decision:
    """What the policies want: whether they hold the schedule, the conditions they own (each
    None when absent), `status.resumedAt`, an event, and when to look again."""

    held: bool
    paused: dict[str, Any] | None
    stopped: dict[str, Any] | None
    resumed_at: str | None
    event: Event | None
    look_again_at: datetime | None
    end_time: datetime | None

    def conditions(self) -> list[dict[str, Any]]:
        return [c for c in (self.paused, self.stopped) if c is not None]


def streak(run_history: Sequence[Mapping[str, Any]], since: datetime | None) -> Streak:
    """Consecutive scheduled runs, newest first, that ended without succeeding (see above)."""
    count = 0
    newest: Mapping[str, Any] | None = None
    for entry in history.newest_first(run_history):
        if entry.get("trigger") != "Scheduled" or entry.get("status") not in api.TERMINAL_STATUSES:
            continue
        # Started, not due: the tick a CronJob catches up on when unsuspended is due before
        # the resume but runs after it, and counts.
        started = history.parse_time(entry.get("startTime") or entry.get("scheduledTime"))
        if since is not None and (started is None or started <= since):
            break
        if entry.get("status") == "Succeeded":
            break
        count += 1
        newest = newest or entry
    return Streak(count, newest)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _condition(
    type_: ConditionType,
    status: bool,
    reason: Reason,
    message: str,
    current: Mapping[str, Any] | None,
    now: datetime,
    generation: object,
) -> dict[str, Any]:
    value = "True" if status else "False"
    same = current is not None and current.get("status") == value
    since = current.get("lastTransitionTime") if same and current else None
    condition: dict[str, Any] = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": history.truncate_message(message, conditions.MESSAGE_MAX),
        "lastTransitionTime": since or history.format_time(now),
    }
    if _int(generation) is not None:
        condition["observedGeneration"] = generation
    return condition


def resume_request(sr: Mapping[str, Any], paused: Mapping[str, Any]) -> str | None:
    """Why a standing pause ends now, or None while it stands."""
    meta = sr.get("metadata") or {}
    generation, paused_at = _int(meta.get("generation")), _int(paused.get("observedGeneration"))
    if generation is not None and paused_at is not None and generation > paused_at:
        return "the spec changed"
    annotation = (meta.get("annotations") or {}).get(api.ANNOTATION_RESUME)
    if annotation and annotation == paused.get("lastTransitionTime"):
        return f"annotation {api.ANNOTATION_RESUME}"
    return None


def pause_to_resume(sr: Mapping[str, Any]) -> str | None:
    """The value `scheduledrun resume` writes to kagent.dev/resume: the standing pause's
    lastTransitionTime, or None when the ScheduledRun is not paused."""
    paused = conditions.find(sr.get("status") or {}, ConditionType.PAUSED)
    if paused is None or paused.get("status") != "True":
        return None
    since = paused.get("lastTransitionTime")
    return str(since) if since else None


def _pause(
    sr: Mapping[str, Any], now: datetime
) -> tuple[dict[str, Any] | None, str | None, Event | None]:
    """The `Paused` condition (None without the policy), `resumedAt`, and an event."""
    meta, spec = sr.get("metadata") or {}, sr.get("spec") or {}
    status = sr.get("status") or {}
    limit = _int(spec.get("pauseAfterFailures"))
    current = conditions.find(status, ConditionType.PAUSED)
    resumed_at = status.get("resumedAt")
    generation = meta.get("generation")
    event = None
    if current is not None and current.get("status") == "True":
        why = "pauseAfterFailures was removed" if limit is None else resume_request(sr, current)
        if why is None:
            return current, resumed_at, None
        resumed_at = history.format_time(now)  # failures due before now no longer count
        event = Event("Normal", EventReason.RESUMED, f"scheduled runs resumed: {why}")
    if limit is None:
        return None, None, event
    found = streak(status.get("runHistory") or [], history.parse_time(resumed_at))
    if found.count >= limit:
        last = found.last_failure or {}
        message = (
            f"{found.count} consecutive scheduled runs did not succeed (pauseAfterFailures "
            f"{limit}); last: {last.get('id')} {last.get('status')}: {last.get('message') or ''}"
            f". Resume with `scheduledrun resume {meta.get('name')}` or by changing the spec."
        )
        condition = _condition(
            ConditionType.PAUSED,
            True,
            Reason.PAUSED_AFTER_FAILURES,
            message,
            current,
            now,
            generation,
        )
        return (
            condition,
            resumed_at,
            Event("Warning", Reason.PAUSED_AFTER_FAILURES, condition["message"]),
        )
    message = f"{found.count} of {limit} consecutive scheduled runs did not succeed"
    condition = _condition(
        ConditionType.PAUSED, False, Reason.BELOW_THRESHOLD, message, current, now, generation
    )
    return condition, resumed_at, event


def _stop(sr: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any] | None, Event | None]:
    """The `Stopped` condition (None without stop rules) and an event when it is newly True."""
    meta, spec = sr.get("metadata") or {}, sr.get("spec") or {}
    status = sr.get("status") or {}
    end = history.parse_time(spec.get("endTime"))
    limit = _int(spec.get("maxRuns"))
    if end is None and limit is None:
        return None, None
    done = _int(status.get("scheduledRuns")) or 0
    current = conditions.find(status, ConditionType.STOPPED)
    if end is not None and now > end:
        reason = Reason.END_TIME_REACHED
        message = f"spec.endTime {history.format_time(end)} has passed: no more scheduled runs"
    elif limit is not None and done >= limit:
        reason = Reason.MAX_RUNS_REACHED
        message = f"{done} scheduled runs have started, spec.maxRuns is {limit}: no more"
    else:
        parts = []
        if end is not None:
            parts.append(f"scheduled runs until {history.format_time(end)}")
        if limit is not None:
            parts.append(f"{done} of {limit} scheduled runs started")
        condition = _condition(
            ConditionType.STOPPED,
            False,
            Reason.WITHIN_LIMITS,
            "; ".join(parts),
            current,
            now,
            meta.get("generation"),
        )
        return condition, None
    condition = _condition(
        ConditionType.STOPPED, True, reason, message, current, now, meta.get("generation")
    )
    newly = current is None or (current.get("status"), current.get("reason")) != ("True", reason)
    return condition, Event("Normal", reason, message) if newly else None


def decide(sr: Mapping[str, Any], now: datetime) -> Decision:
    """Every policy of `sr` at `now`."""
    paused, resumed_at, pause_event = _pause(sr, now)
    stopped, stop_event = _stop(sr, now)
    end = history.parse_time((sr.get("spec") or {}).get("endTime"))
    held = any(c is not None and c["status"] == "True" for c in (paused, stopped))
    return Decision(
        held=held,
        paused=paused,
        stopped=stopped,
        resumed_at=resumed_at,
        event=pause_event or stop_event,
        look_again_at=end + AFTER_END if end is not None and now <= end else None,
        end_time=end,
    )


def unchanged(status: Mapping[str, Any]) -> Decision:
    """The policies' status as it stands, for a ScheduledRun that is not accepted (its CronJob
    is suspended for that reason; a pause or stop is judged again once it is accepted)."""
    return Decision(
        held=False,
        paused=conditions.find(status, ConditionType.PAUSED),
        stopped=conditions.find(status, ConditionType.STOPPED),
        resumed_at=status.get("resumedAt"),
        event=None,
        look_again_at=None,
        end_time=None,
    )


def upcoming(sr: Mapping[str, Any], times: Sequence[datetime]) -> tuple[list[datetime], list[str]]:
    """The fire times that the policies let through, and notes saying why others will not fire
    (for `scheduledrun next`): none after `endTime`, at most the runs `maxRuns` leaves, none
    while paused after failures."""
    spec, status = sr.get("spec") or {}, sr.get("status") or {}
    kept, notes = list(times), []
    paused = conditions.find(status, ConditionType.PAUSED)
    if paused is not None and paused.get("status") == "True":
        name = (sr.get("metadata") or {}).get("name")
        notes.append(f"paused after failures: nothing fires until `scheduledrun resume {name}`")
        kept = []
    end = history.parse_time(spec.get("endTime"))
    if end is not None:
        notes.append(f"ends: no scheduled run after spec.endTime {history.format_time(end)}")
        kept = [t for t in kept if t <= end]
    limit = _int(spec.get("maxRuns"))
    if limit is not None:
        left = max(0, limit - (_int(status.get("scheduledRuns")) or 0))
        notes.append(f"maxRuns: {left} of {limit} scheduled runs left")
        kept = kept[:left]
    return kept, notes
