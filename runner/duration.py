"""Duration strings of the ScheduledRun API (`15m`, `1h30m`, `90s`), for runner and operator."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)(h|m|s)")
_WHOLE = re.compile(r"^(?:\d+[hms])+$")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """Parse `1h30m`-style text: units h, m, s, each at most once, in that order, above zero."""
    if not _WHOLE.match(text):
        raise ValueError(f"duration {text!r} must look like 15m, 1h30m or 90s (units h, m, s)")
    units = [unit for _, unit in _PART.findall(text)]
    if len(set(units)) != len(units) or units != sorted(units, key="hms".index):
        raise ValueError(f"duration {text!r} must give each unit once, in the order h, m, s")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return timedelta(seconds=seconds)
