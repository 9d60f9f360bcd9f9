"""The second text part of `spec.includePreviousRun`: the previous run, for the agent to compare.

The prompt is sent exactly as written, as the first part; this part follows it, marked in its
first line (and in the part's metadata) as context the scheduler added, so neither the agent nor
a person reading the session mistakes it for the user's words. Pure: the history in, the text out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from runner import history

HEADER: Final = (
    "[kagent scheduledrun: previous run of this schedule, added as context; not part of the prompt]"
)
# Part metadata key and value that say the same to a program.
METADATA: Final = {"kagent.dev/part": "previous-run"}


def previous(
    run_history: Sequence[Mapping[str, Any]], own: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The newest finished run older than `own` (this run's entry), or None."""
    mine = history.sort_key(own)
    for entry in history.newest_first(run_history):
        if entry.get("id") == own.get("id") or not history.is_terminal(entry):
            continue
        if history.sort_key(entry) < mine:
            return entry
    return None


def context_part(run_history: Sequence[Mapping[str, Any]], own: Mapping[str, Any]) -> str:
    """The text of the second part."""
    entry = previous(run_history, own)
    if entry is None:
        return f"{HEADER}\nnone: this is the first recorded run"
    trigger = entry.get("trigger") or "Scheduled"
    when = (
        f"scheduled time: {entry['scheduledTime']}"
        if entry.get("scheduledTime")
        else f"start time: {entry.get('startTime') or 'unknown'}"
    )
    lines = [
        HEADER,
        f"run: {entry.get('id')} ({trigger})",
        when,
        f"status: {entry.get('status')}",
        f"message: {entry.get('message') or ''}",
    ]
    return "\n".join(lines)
