"""generator.schedule.cron against robfig/cron v3.0.1 itself (the Go module in tests/crondiff).

Covers: the parse verdict of every schedule in cron_cases plus random ones from a fixed seed;
zone loading against Go's time.LoadLocation; and the next five fire times of many schedules in
many zones (daylight-saving zones, Lord Howe's 30-minute shift, Kathmandu's +05:45, zones that
change at midnight) from instants around every transition. Not covered: Kubernetes' own checks
around the parser (the kube-apiserver differential test does those).

The Go tool is built once into ~/.cache/kagent-scheduledrun/crondiff/<hash of its sources>; the
tests fail when no Go toolchain is installed (the machine and CI have one).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from generator.schedule.cron import (
    CronError,
    _go_load_location,
    load_time_zone,
    next_fire_times,
    parse_schedule,
)
from tests.unit.cron_cases import SCHEDULE_CASES, TIME_ZONE_CASES

pytestmark = pytest.mark.timeout(600)

TOOL_DIR = Path(__file__).resolve().parent.parent / "crondiff"
SEED = 20260326
RANDOM_SCHEDULES = 1500
SOUP_SCHEDULES = 3000

DST_ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # DST shifts by 30 minutes
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
    "Asia/Beirut",  # changes at midnight
    "Africa/Cairo",  # changes at midnight
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 / -02:30
    "Europe/Dublin",  # negative DST in the source data
    "Antarctica/Troll",  # DST of two hours
    "Australia/Adelaide",  # southern hemisphere, half-hour offset
]
FIXED_ZONES = ["UTC", "Asia/Kathmandu", "Asia/Kolkata", "Pacific/Kiritimati", "America/Sao_Paulo"]

# Schedules whose times sit where clocks jump or repeat.
DST_SCHEDULES = [
    "* * * * *",
    "*/7 * * * *",
    "0 * * * *",
    "30 * * * *",
    "15,45 * * * *",
    "0 0 * * *",
    "30 0 * * *",
    "0 1 * * *",
    "30 1 * * *",
    "0 2 * * *",
    "30 2 * * *",
    "59 2 * * *",
    "0 3 * * *",
    "0 23 * * *",
    "*/15 0-3 * * *",
    "0 0-4 * * *",
    "0 0 * * 0",
    "0 0 1 * *",
    "0 12 * * 1-5",
    "@daily",
    "@hourly",
    "@weekly",
    "@monthly",
    "@every 1h",
    "@every 25m",
]


# ---------------------------------------------------------------------------------------------
# The Go side


def _tool_hash() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((TOOL_DIR / name).read_bytes())
    version = subprocess.run(["go", "version"], capture_output=True, text=True, check=True)
    digest.update(version.stdout.encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def crondiff() -> Path:
    """The built Go tool (built once per source hash, reused across runs)."""
    if shutil.which("go") is None:
        pytest.fail("no Go toolchain on PATH: it builds the robfig/cron reference tool")
    binary = Path.home() / ".cache" / "kagent-scheduledrun" / "crondiff" / _tool_hash() / "crondiff"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(f".{os.getpid()}")
        env = {**os.environ, "GOFLAGS": "-mod=readonly", "CGO_ENABLED": "0"}
        subprocess.run(
            ["go", "build", "-o", str(partial), "."], cwd=TOOL_DIR, env=env, check=True, timeout=600
        )
        partial.replace(binary)
    return binary


def ask_go(tool: Path, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run(
        [str(tool)], input=lines, capture_output=True, text=True, check=True, timeout=600
    )
    # Split on "\n" only: splitlines() would also split inside strings at U+0085 or U+001C.
    answers = [json.loads(line) for line in done.stdout.split("\n") if line]
    assert len(answers) == len(requests), done.stderr
    return answers


def go_accepts_schedule(answer: dict[str, Any], schedule: str) -> bool:
    """Kubernetes' verdict: robfig parses it and it holds no TZ (validateScheduleFormat)."""
    return answer["parseError"] is None and "TZ" not in schedule and schedule != ""


# ---------------------------------------------------------------------------------------------
# Random schedules from a fixed seed


def _number(rng: random.Random, low: int, high: int) -> str:
    roll = rng.random()
    if roll < 0.05:
        return str(high + 1 + rng.randrange(3))  # above the range
    if roll < 0.08:
        return str(low - 1) if low > 0 else "x"
    return str(rng.randint(low, high))


def _item(rng: random.Random, low: int, high: int, names: list[str]) -> str:
    def value() -> str:
        if names and rng.random() < 0.3:
            name = rng.choice(names)
            return name.upper() if rng.random() < 0.5 else name
        return _number(rng, low, high)

    shape = rng.random()
    if shape < 0.15:
        base = rng.choice(["*", "*", "?"])
    elif shape < 0.55:
        base = value()
    else:
        a, b = value(), value()
        if a.isdigit() and b.isdigit() and int(a) > int(b) and rng.random() < 0.8:
            a, b = b, a
        base = f"{a}-{b}"
    if rng.random() < 0.3:
        step = rng.choice(["0", "1", "2", "3", "5", "7", "10", "15", str(high + 2)])
        base = f"{base}/{step}"
    return base


FIELD_SHAPES = [
    (0, 59, []),
    (0, 23, []),
    (1, 31, []),
    (1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
    (0, 6, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
]


def random_schedule(rng: random.Random) -> str:
    if rng.random() < 0.04:
        return rng.choice(
            [
                "@every " + rng.choice(["1m", "90s", "2h45m", "1.25h", "750ms", "0", "-1s", "3x"]),
                rng.choice(["@daily", "@hourly", "@weekly", "@yearly", "@monthly", "@nope"]),
            ]
        )
    fields = []
    for low, high, names in FIELD_SHAPES:
        count = 1 if rng.random() < 0.75 else rng.randint(2, 3)
        fields.append(",".join(_item(rng, low, high, names) for _ in range(count)))
    if rng.random() < 0.03:
        fields.pop()
    return " ".join(fields)


def random_schedules() -> list[str]:
    rng = random.Random(SEED)
    return [random_schedule(rng) for _ in range(RANDOM_SCHEDULES)]


# Pieces of fields and separators, including ones where Go and Python disagree about letter
# case (dotted capital I, Kelvin sign) or whitespace (U+001C is a separator only to Python).
FIELD_PIECES = [
    *"0123456789", "1", "2", "5", "0", "*", "*", "?", "-", "-", "/", "/", ",", "+", "7",
    "jan", "MON", "Fr\u0130", "\u212a", "sun", "Dec", "L", "x", "TZ",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\t", "\u00a0", "\u2003", "\x1c", "\u0085", "\n"]


def soup_schedules() -> list[str]:
    """Fields stitched from random pieces: many invalid, probing the parser's edges."""
    rng = random.Random(SEED + 2)
    schedules = []
    for _ in range(SOUP_SCHEDULES):
        shapes = FIELD_SHAPES[: rng.choice([4, 5, 5, 5, 5, 5])] + [FIELD_SHAPES[4]] * (
            rng.random() < 0.1
        )
        fields = [
            _item(rng, low, high, names)
            if rng.random() < 0.75
            else "".join(rng.choices(FIELD_PIECES, k=rng.randint(1, 3)))
            for low, high, names in shapes
        ]
        text = "".join(f + rng.choice(SEPARATORS) for f in fields)
        schedules.append(text if rng.random() < 0.3 else text.rstrip(" "))
    return schedules


# ---------------------------------------------------------------------------------------------
# Instants around daylight-saving transitions


def transitions(zone: str, start: datetime, end: datetime) -> Iterator[datetime]:
    """Instants where the zone's UTC offset changes, to the second (hourly scan, then bisect)."""
    tz = ZoneInfo(zone)
    step = timedelta(hours=1)
    t = start
    while t < end:
        if t.astimezone(tz).utcoffset() != (t + step).astimezone(tz).utcoffset():
            lo, hi = t, t + step
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            yield hi.replace(microsecond=0)
        t += step


AROUND = [
    timedelta(days=-1),
    timedelta(hours=-3),
    timedelta(hours=-1, minutes=-1),
    timedelta(minutes=-30),
    timedelta(seconds=-1),
    timedelta(0),
    timedelta(minutes=30),
    timedelta(hours=1, seconds=30),
]
BASE_INSTANTS = [
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 30, 500000, tzinfo=UTC),
    datetime(2028, 2, 28, 23, 59, 59, tzinfo=UTC),
    datetime(2027, 6, 15, 12, 34, 56, 789000, tzinfo=UTC),
]


@functools.cache
def instants_for(zone: str) -> list[datetime]:
    found = list(
        transitions(zone, datetime(2025, 12, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC))
    )
    return BASE_INSTANTS + [t + d for t in found for d in AROUND]


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Comparison:
    schedule: str
    zone: str
    after: datetime


def python_times(c: Comparison) -> list[str]:
    return [rfc3339(t) for t in next_fire_times(c.schedule, c.zone, c.after, 5)]


def compare(tool: Path, comparisons: list[Comparison]) -> list[str]:
    requests = [
        {"schedule": c.schedule, "timeZone": c.zone, "after": rfc3339(c.after), "count": 5}
        for c in comparisons
    ]
    mismatches = []
    for c, answer in zip(comparisons, ask_go(tool, requests), strict=True):
        assert answer["error"] is None, (c, answer)
        mine = python_times(c)
        if mine != answer["times"]:
            mismatches.append(
                f"{c.schedule!r} in {c.zone} after {rfc3339(c.after)}: "
                f"go {answer['times']} python {mine}"
            )
    return mismatches


def _valid(schedule: str) -> bool:
    try:
        parse_schedule(schedule)
    except CronError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Tests


def test_schedule_case_verdicts_are_kubernetes_verdicts(crondiff: Path) -> None:
    answers = ask_go(
        crondiff,
        [{"schedule": s, "after": "2026-01-01T00:00:00Z", "count": 0} for s, _ in SCHEDULE_CASES],
    )
    wrong = [
        (s, expected)
        for (s, expected), answer in zip(SCHEDULE_CASES, answers, strict=True)
        if go_accepts_schedule(answer, s) != expected
    ]
    assert wrong == []


def test_parse_verdicts_match_robfig(crondiff: Path) -> None:
    schedules = [s for s, _ in SCHEDULE_CASES] + random_schedules() + soup_schedules()
    answers = ask_go(
        crondiff, [{"schedule": s, "after": "2026-01-01T00:00:00Z", "count": 0} for s in schedules]
    )
    disagreements = [
        (s, answer["parseError"])
        for s, answer in zip(schedules, answers, strict=True)
        if _valid(s) != go_accepts_schedule(answer, s)
    ]
    assert disagreements == []
    # The random set must exercise both verdicts to mean anything.
    verdicts = {_valid(s) for s in schedules}
    assert verdicts == {True, False}


ZONE_NAMES = [name for name, _ in TIME_ZONE_CASES] + [
    "posixrules",
    "right/UTC",
    "posix/Europe/Berlin",
    "localtime",
    "Factory",
    "tzdata.zi",
    "leapseconds",
    "__init__.py",
    "Europe/__init__.py",
    "America",
    "US/Pacific-New",
    "Asia/Calcutta",
]


def test_zone_loading_matches_go(crondiff: Path) -> None:
    # Only names that pass Kubernetes' syntax check reach time.LoadLocation.
    names = [
        n for n in ZONE_NAMES if n and "//" not in n and not n.startswith("/") and " " not in n
    ]
    answers = ask_go(
        crondiff,
        [
            {"schedule": "@daily", "timeZone": n, "after": "2026-01-01T00:00:00Z", "count": 0}
            for n in names
        ],
    )
    disagreements = [
        (n, answer["zoneError"])
        for n, answer in zip(names, answers, strict=True)
        if (_go_load_location(n) is not None or n == "Local") != (answer["zoneError"] is None)
    ]
    assert disagreements == []


def test_time_zone_case_verdicts_agree_with_go_where_go_decides(crondiff: Path) -> None:
    # A name Go loads is accepted unless Kubernetes' syntax rules or "Local" reject it first.
    names = [n for n, _ in TIME_ZONE_CASES]
    answers = ask_go(
        crondiff,
        [
            {"schedule": "@daily", "timeZone": n, "after": "2026-01-01T00:00:00Z", "count": 0}
            for n in names
        ],
    )
    for (name, expected), answer in zip(TIME_ZONE_CASES, answers, strict=True):
        if expected:
            assert answer["zoneError"] is None, name
            load_time_zone(name)


def test_next_times_in_dst_zones_match_robfig(crondiff: Path) -> None:
    comparisons = [
        Comparison(schedule, zone, after)
        for zone in DST_ZONES + FIXED_ZONES
        for after in instants_for(zone)
        for schedule in DST_SCHEDULES
    ]
    assert len(comparisons) > 10_000
    assert compare(crondiff, comparisons) == []


def test_next_times_of_case_and_random_schedules_match_robfig(crondiff: Path) -> None:
    rng = random.Random(SEED + 1)
    zones = DST_ZONES + FIXED_ZONES
    schedules = [s for s in [s for s, _ in SCHEDULE_CASES] + random_schedules() if _valid(s)]
    comparisons: list[Comparison] = []
    for schedule in schedules:
        for zone in rng.sample(zones, 3):
            instants = instants_for(zone)
            comparisons.extend(
                Comparison(schedule, zone, after) for after in rng.sample(instants, 3)
            )
    assert len(comparisons) > 4_000
    assert compare(crondiff, comparisons) == []
