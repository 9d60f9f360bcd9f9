"""The runner's side of the stop rules (`spec.endTime`, `spec.maxRuns`): pure decisions.

The operator suspends the CronJob when a rule is reached (generator/spec/policies.py); these are the
backstop for a tick the CronJob controller started in the seconds before that, and the counter
`status.scheduledRuns`, which the runner raises in the very write that records its run, so that
each Job counts exactly once however often its pod is retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from runner import history


def refusal(
    spec: Mapping[str, Any], status: Mapping[str, Any], trigger: str, due: datetime
) -> str | None:
    """Why a scheduled run due at `due` must not start, or None. Manual runs are never refused."""
    if trigger != "Scheduled":
        return None
    end = history.parse_time(spec.get("endTime"))
    if end is not None and due > end:
        return (
            f"tick {history.format_time(due)} is after spec.endTime {history.format_time(end)}:"
            " not sent"
        )
    limit = spec.get("maxRuns")
    done = status.get("scheduledRuns") or 0
    if isinstance(limit, int) and isinstance(done, int) and done >= limit:
        return f"{done} scheduled runs have started, spec.maxRuns is {limit}: not sent"
    return None


def counted(status: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The `scheduledRuns` field to write with a newly recorded entry (nothing for manual runs)."""
    if entry.get("trigger") != "Scheduled":
        return {}
    done = status.get("scheduledRuns")
    return {"scheduledRuns": (done if isinstance(done, int) else 0) + 1}
