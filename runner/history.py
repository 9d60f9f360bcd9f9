"""The ScheduledRun's `status.runHistory`: pure functions over the list, newest first.

Shared by the runner (its own entry) and the operator (orphaned `Pending` entries). Every
function returns new lists and dicts and never mutates its input, so a status write that hits a
conflict can re-read, re-apply the same function and retry.

Order: "newest" means latest `scheduledTime` (when the run was due), then latest `startTime`,
then the greater `id`. A manual run has no `scheduledTime` (the CRD keeps it for scheduled runs),
so it sorts by its `startTime`.

Recording a run always keeps that run's entry (issue 22): the list keeps it and the
`maxRunHistory - 1` newest others. No entry the runner finds, however it is dated (forged a
minute ahead, inside the clock skew a runner must allow, or a real run of a later tick), can keep
a run out of the history, so every run that starts leaves its entry. The cost: a run recorded
late, after `maxRunHistory` newer ones, takes the place of the oldest of them until that one
writes again or the late run ages out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from runner import api

Entry = dict[str, Any]

_OLDEST = datetime.min.replace(tzinfo=UTC)
_ELLIPSIS = "…"
# How far an entry's times may lie ahead of the recording runner's clock (clocks of nodes drift
# apart by seconds). Further ahead, no runner wrote it: the entry is impossible, and would
# otherwise sort as the newest forever, crowding real runs out of a trimmed history.
FUTURE_SKEW: Final = timedelta(minutes=5)


def format_time(when: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second, as Kubernetes writes times."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_run_time(when: datetime) -> str:
    """A run's start or end: RFC 3339 in UTC to the millisecond, so durations (the operator's
    histograms) measure a quick run as what it took, not 0 or 1 s. A whole second is written as
    Kubernetes writes it, without the fraction."""
    utc = when.astimezone(UTC)
    millis = utc.microsecond // 1000
    if millis == 0:
        return format_time(utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def parse_time(text: object) -> datetime | None:
    """An RFC 3339 time from the API, or None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))  # RFC 3339: t, z
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def truncate_message(text: str, limit: int = api.MESSAGE_MAX_CHARS) -> str:
    """The start of `text`, at most `limit` characters, ending in `…` when it was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - len(_ELLIPSIS)].rstrip() + _ELLIPSIS


def new_pending(
    job_name: str, trigger: api.Trigger, scheduled_time: datetime | None, start_time: datetime
) -> Entry:
    """The entry a runner writes before it sends anything (`scheduledTime` for scheduled runs)."""
    entry: Entry = {"id": job_name, "trigger": trigger}
    if scheduled_time is not None:
        entry["scheduledTime"] = format_time(scheduled_time)
    entry |= {
        "startTime": format_run_time(start_time),
        "status": "Pending",
        "message": "dispatching",
    }
    return entry


def finished(entry: Mapping[str, Any], status: api.RunStatus, message: str, end: datetime) -> Entry:
    """`entry` ended with `status` at `end`."""
    return {
        **entry,
        "status": status,
        "message": truncate_message(message),
        "endTime": format_run_time(end),
    }


def with_dispatch_seconds(entry: Mapping[str, Any], seconds: float) -> Entry:
    """`entry` with how long the A2A send took, to the millisecond: from the first send attempt
    to the agent's answer or the runner giving up (retries and their pauses included). The
    operator's `kagent_scheduledrun_dispatch_duration_seconds` is made of these."""
    return {**entry, "dispatchSeconds": round(max(seconds, 0.0), 3)}


def is_terminal(entry: Mapping[str, Any]) -> bool:
    return entry.get("status") in api.TERMINAL_STATUSES


def sort_key(entry: Mapping[str, Any]) -> tuple[datetime, datetime, str]:
    """Ascending key of "how new" an entry is (see the module docstring)."""
    start = parse_time(entry.get("startTime")) or _OLDEST
    scheduled = parse_time(entry.get("scheduledTime")) or start
    return (scheduled, start, str(entry.get("id", "")))


def newest_first(history: Sequence[Mapping[str, Any]]) -> list[Entry]:
    return [dict(e) for e in sorted(history, key=sort_key, reverse=True)]


def find(history: Sequence[Mapping[str, Any]], entry_id: str) -> Entry | None:
    """The entry with this id (a Job name), or None."""
    for entry in history:
        if entry.get("id") == entry_id:
            return dict(entry)
    return None


def upsert(history: Sequence[Mapping[str, Any]], entry: Mapping[str, Any]) -> list[Entry]:
    """`history` with `entry` replacing the one with its id (or added), newest first."""
    others = [e for e in history if e.get("id") != entry.get("id")]
    return newest_first([*others, entry])


def last_run(history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`lastRunTime` (the newest entry's start) and `lastRunStatus`, None when there is no run."""
    ordered = newest_first(history)
    if not ordered:
        return {"lastRunTime": None, "lastRunStatus": None}
    newest = ordered[0]
    return {"lastRunTime": newest.get("startTime"), "lastRunStatus": newest.get("status")}


def possible(entry: Mapping[str, Any], now: datetime) -> bool:
    """Whether a runner could have written `entry` by `now`: none of its times in the future."""
    limit = now + FUTURE_SKEW
    for key in ("scheduledTime", "startTime", "endTime"):
        when = parse_time(entry.get(key))
        if when is not None and when > limit:
            return False
    return True


def update(
    status: Mapping[str, Any],
    entry: Mapping[str, Any],
    max_run_history: int,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """`record` for an entry recorded before (its ids, its end): None, so nothing is written,
    when newer runs have since trimmed it away and it would not be among the `max_run_history`
    newest. Only a run's first record always keeps its entry; a later write of a run older than
    the kept history must not push a newer run out."""
    when = now or datetime.now(UTC)
    current = status.get("runHistory") or []
    if find(current, str(entry.get("id"))) is None:
        others = [e for e in current if possible(e, when)]
        kept = newest_first([entry, *others])[: max(max_run_history, 1)]
        if not any(e.get("id") == entry.get("id") for e in kept):
            return None
    return record(status, entry, max_run_history, now)


def record(
    status: Mapping[str, Any],
    entry: Mapping[str, Any],
    max_run_history: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status fields to write so that `entry` is recorded: the new `runHistory` (`entry`
    and the `max_run_history - 1` newest others, see the module docstring) and the `lastRun*`
    fields derived from it. Impossible entries (dated after `now`, default the clock, beyond
    FUTURE_SKEW) are dropped, so they never stand in `lastRun*`."""
    when = now or datetime.now(UTC)
    others = [
        e
        for e in status.get("runHistory") or []
        if e.get("id") != entry.get("id") and possible(e, when)
    ]
    room = max(max_run_history, 1) - 1
    history = newest_first([entry, *newest_first(others)[:room]])
    return {"runHistory": history, **last_run(history)}
