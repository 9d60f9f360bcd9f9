"""Hashed schedules: `H` in a cron field becomes a value derived from the object's identity.

Jenkins' idea: a hundred nightly schedules written `H 2 * * *` spread over the hour instead of
all hitting the agents at 02:00:00, and each object keeps its own minute forever. The operator
expands `H` before anything else sees the schedule; the CronJob only ever carries the concrete,
robfig-readable result, which `status.effectiveSchedule` shows.

Forms, in any of the five fields, alone or as pieces of a comma-separated list:

| form        | becomes                                  | example (minute field)      |
|-------------|------------------------------------------|-----------------------------|
| `H`         | one value in the field's hash range      | `H` -> `37`                 |
| `H(a-b)`    | one value in a..b                        | `H(0-29)` -> `12`           |
| `H/n`       | every n-th value, from an offset below n | `H/15` -> `7-59/15`         |
| `H(a-b)/n`  | every n-th value in a..b, offset below n | `H(0-29)/10` -> `4-29/10`   |

Hash ranges are the field's own (minute 0-59, hour 0-23, month 1-12, day-of-week 0-6), except
day-of-month, where a bare `H` or `H/n` uses 1-28 so that it fires in every month (as Jenkins
does). `H/1` means `H`, as in Jenkins. Numbers take robfig's syntax (digits, optional `+`); names
(`jan`, `mon`) are not allowed inside `H(...)`. Macros (`@daily`, `@every 1h`) are not hashed.

The value is `low + (h mod width)` (or `low + (h mod n)` for a step), where `h` is the first
8 bytes, big-endian, of SHA-256 over `"<namespace>/<name>" NUL <field index 0-4> NUL <piece index
within the field>`. So it depends only on the object's namespace and name and the piece's
position: never on the process (no Python `hash()`), the operator version, or the other fields,
and editing the hour never moves the minute.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from generator.schedule.cron import GO_SPACE, CronError

__all__ = ["FIELDS", "HashError", "effective_schedule", "expand", "has_hash", "object_key"]

# The separators robfig's strings.Fields splits a schedule on.
_SPACE: Final = f"[{re.escape(GO_SPACE)}]"
_SEPARATOR: Final = re.compile(f"{_SPACE}+")
_NUMBER: Final = r"\+?[0-9]+"
_HASHED: Final = re.compile(rf"H(?:\(({_NUMBER})-({_NUMBER})\))?(?:/({_NUMBER}))?")
_HASHED_PIECE: Final = re.compile(f"(?:^|,|{_SPACE})H")
# Placeholder identity for checks that have no object: whether a form is valid never depends on
# the values it expands to.
_ANY_KEY: Final = "validate/validate"


class HashError(CronError):
    """A malformed or out-of-range `H` form; the message names the field and the fix."""


@dataclass(frozen=True)
class HashField:
    label: str
    low: int  # the field's bounds: what H(a-b) may name
    high: int
    hash_high: int  # the top of a bare H's range (day-of-month: 28, so every month has it)


FIELDS: Final = (
    HashField("minute", 0, 59, 59),
    HashField("hour", 0, 23, 23),
    HashField("day-of-month", 1, 31, 28),
    HashField("month", 1, 12, 12),
    HashField("day-of-week", 0, 6, 6),
)


def has_hash(schedule: object) -> bool:
    """Whether a schedule uses `H`: a list piece that starts with it (no month or weekday name
    does, so `THU` is not one). Macros never do."""
    return (
        isinstance(schedule, str)
        and not schedule.startswith("@")
        and _HASHED_PIECE.search(schedule) is not None
    )


def object_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def _draw(key: str, field_index: int, piece: int, modulus: int) -> int:
    digest = hashlib.sha256(f"{key}\0{field_index}\0{piece}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % modulus


def _expand_piece(piece: str, index: int, position: int, key: str) -> str:
    field = FIELDS[index]
    where = f"{field.label} field"
    match = _HASHED.fullmatch(piece)
    if match is None:
        raise HashError(
            f"{where}: {piece!r} is not a hashed form; use H, H(a-b), H/n or H(a-b)/n "
            "with whole numbers"
        )
    low_text, high_text, step_text = match.groups()
    if low_text is None:
        low, high = field.low, field.hash_high
    else:
        low, high = int(low_text), int(high_text)
        for value in (low, high):
            if not field.low <= value <= field.high:
                raise HashError(
                    f"{where}: {value} in {piece!r} is outside {field.low}-{field.high}"
                )
        if low > high:
            raise HashError(f"{where}: range in {piece!r} runs backwards ({low} is after {high})")
    width = high - low + 1
    step = 1 if step_text is None else int(step_text)
    if not 1 <= step <= width:
        raise HashError(
            f"{where}: step {step} in {piece!r} must be from 1 to {width}, the size of its range"
        )
    if step == 1:
        return str(low + _draw(key, index, position, width))
    return f"{low + _draw(key, index, position, step)}-{high}/{step}"


def expand(schedule: str, key: str = _ANY_KEY) -> str:
    """`schedule` with every `H` form replaced by its value for `key` ("namespace/name").

    A schedule without `H` comes back unchanged (so its CronJob does not change either); one with
    `H` comes back with single spaces between its five fields. Anything that is not five fields
    comes back unchanged for the cron parser to report. Raises HashError for a bad `H` form.
    """
    if not has_hash(schedule):
        return schedule
    fields = [f for f in _SEPARATOR.split(schedule) if f]
    if len(fields) != len(FIELDS):
        return schedule
    out = []
    for index, text in enumerate(fields):
        pieces = text.split(",")
        out.append(
            ",".join(
                _expand_piece(piece, index, position, key) if piece.startswith("H") else piece
                for position, piece in enumerate(pieces)
            )
        )
    return " ".join(out)


def effective_schedule(sr: Mapping[str, Any]) -> str:
    """The concrete schedule the CronJob of this ScheduledRun carries."""
    meta = sr.get("metadata") or {}
    schedule = (sr.get("spec") or {}).get("schedule")
    if not isinstance(schedule, str):
        raise HashError("spec.schedule is required")
    key = object_key(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
    return expand(schedule, key)
