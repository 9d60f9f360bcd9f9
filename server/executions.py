"""A page of a ScheduledRun's run history, newest first, paged the way kagent pages executions.

kagent's `GET .../executions?limit=&before=&beforeID=` orders by (start time, id), newest first;
`before` (RFC 3339) keeps entries that started earlier, and `beforeID` (only with `before`) also
keeps those that started at that very instant with a smaller id, so a page boundary between two
runs of the same second loses neither. A client asks for the next page with the last entry's
`startTime` and `id`. An entry that has not started yet sorts by its scheduled time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

DEFAULT_LIMIT: Final = 50  # kagent's default page
MAX_LIMIT: Final = 100  # kagent's maxScheduledRunExecutionPageSize

_OLDEST = datetime.min.replace(tzinfo=UTC)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 time (with `Z` or an offset); ValueError otherwise, also for a time that is
    not in years 1 to 9999 once in UTC (`0001-01-01T00:00:00+23:59`, which the CRD admits)."""
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    try:
        return instant.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{text!r} is outside the years 1 to 9999 in UTC") from exc


def entry_time(entry: Mapping[str, Any]) -> datetime:
    for key in ("startTime", "scheduledTime"):
        value = entry.get(key)
        if isinstance(value, str):
            try:
                return parse_instant(value)
            except ValueError:
                continue
    return _OLDEST


def page(
    history: Sequence[Mapping[str, Any]],
    limit: int = DEFAULT_LIMIT,
    before: datetime | None = None,
    before_id: str | None = None,
) -> list[dict[str, Any]]:
    """Up to `limit` entries, newest first, older than the cursor (`before`, `before_id`)."""
    ordered = sorted(history, key=lambda e: (entry_time(e), str(e.get("id", ""))), reverse=True)
    if before is not None:
        ordered = [
            e
            for e in ordered
            if entry_time(e) < before
            or (
                before_id is not None
                and entry_time(e) == before
                and str(e.get("id", "")) < before_id
            )
        ]
    return [dict(e) for e in ordered[:limit]]
