"""`spec.promptVariables`: the few values of its own run a prompt may name, filled in by the runner.

A fixed set of names, no expressions, no code: `{{scheduledDate}}` (spaces inside the braces
allowed) is replaced by its value, `\\{{` stands for a literal `{{`, and anything else that opens
with `{{` is a problem the operator reports (Accepted=False, InvalidSpec) before a run starts;
the runner repeats the check and ends such a run DispatchFailed without sending. One regular
expression, no template engine: the runner stays lean.

Times are written in the ScheduledRun's `timeZone` as RFC 3339 with the zone's offset at that
instant, to the second (`2026-03-29T03:30:00+02:00`), dates as `YYYY-MM-DD` in that zone. A
manual run has no scheduled time: `scheduledTime` and `scheduledDate` are its start. Pure: the
spec, the run's entry and the history in, the prompt out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runner import history, previous

# Each name, with what it holds (the README's table and the validation message list them).
VARIABLES: Final[dict[str, str]] = {
    "scheduledTime": "the tick this run was scheduled for (a manual run: its start), in timeZone",
    "scheduledDate": "the date of scheduledTime in timeZone, YYYY-MM-DD",
    "timeZone": "the ScheduledRun's timeZone (UTC when unset)",
    "runNumber": "status.scheduledRuns once this run is counted (manual runs are not counted)",
    "trigger": "Scheduled or Manual",
    "namespace": "the ScheduledRun's namespace",
    "name": "the ScheduledRun's name",
    "previousStatus": "the previous finished run's status, or none",
    "previousTime": "the previous finished run's scheduled (or start) time in timeZone, or none",
    "lastSuccessTime": "the newest earlier Succeeded run's scheduled (or start) time, or none",
}
NONE: Final = "none"
ESCAPE: Final = "\\{{"

# An escape, a well-formed variable, or a bare `{{` that opens nothing we know.
_TOKEN: Final = re.compile(r"\\\{\{|\{\{[ \t]*([A-Za-z][A-Za-z0-9]*)[ \t]*\}\}|\{\{")


def problems(prompt: str) -> list[str]:
    """What is wrong with the variables of `prompt`, each said once; empty when all is known."""
    found: list[str] = []
    for match in _TOKEN.finditer(prompt):
        token, name = match.group(0), match.group(1)
        if token == ESCAPE:
            continue
        if name is None:
            text = prompt[match.start() : match.start() + 24].split("\n", 1)[0]
            found.append(
                f"{text!r} opens no variable: write {{{{name}}}} with a name below, or \\{{{{"
                " for a literal {{"
            )
        elif name not in VARIABLES:
            found.append(f"unknown variable {{{{{name}}}}}")
    if found:
        found.append(f"known variables: {', '.join(VARIABLES)}")
    return list(dict.fromkeys(found))


def render(prompt: str, values: Mapping[str, str]) -> str:
    """`prompt` with every variable replaced and every escape undone; ValueError when a
    variable is unknown or a `{{` opens nothing."""
    wrong = problems(prompt)
    if wrong:
        raise ValueError("; ".join(wrong))

    def fill(match: re.Match[str]) -> str:
        return "{{" if match.group(0) == ESCAPE else values[match.group(1)]

    return _TOKEN.sub(fill, prompt)


def zone_of(spec: Mapping[str, Any]) -> ZoneInfo:
    name = str(spec.get("timeZone") or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"spec.timeZone {name!r} is not a known time zone") from exc


def format_local(when: datetime, zone: ZoneInfo) -> str:
    """RFC 3339 in `zone`, to the second, with the zone's offset at that instant."""
    return when.astimezone(zone).isoformat(timespec="seconds")


def _when(entry: Mapping[str, Any]) -> datetime | None:
    return history.parse_time(entry.get("scheduledTime")) or history.parse_time(
        entry.get("startTime")
    )


def values(
    namespace: str,
    name: str,
    spec: Mapping[str, Any],
    run_history: Sequence[Mapping[str, Any]],
    own: Mapping[str, Any],
    scheduled_runs: int,
) -> dict[str, str]:
    """Every variable's value for the run of `own` (its history entry)."""
    zone = zone_of(spec)
    due = _when(own) or datetime.now(UTC)
    before = previous.previous(run_history, own)
    mine = history.sort_key(own)
    success = next(
        (
            e
            for e in history.newest_first(run_history)
            if e.get("status") == "Succeeded" and history.sort_key(e) < mine
        ),
        None,
    )

    def time_of(entry: Mapping[str, Any] | None) -> str:
        when = _when(entry) if entry is not None else None
        return format_local(when, zone) if when is not None else NONE

    return {
        "scheduledTime": format_local(due, zone),
        "scheduledDate": due.astimezone(zone).date().isoformat(),
        "timeZone": str(spec.get("timeZone") or "UTC"),
        "runNumber": str(scheduled_runs),
        "trigger": str(own.get("trigger") or "Scheduled"),
        "namespace": namespace,
        "name": name,
        "previousStatus": str(before.get("status")) if before is not None else NONE,
        "previousTime": time_of(before),
        "lastSuccessTime": time_of(success),
    }
