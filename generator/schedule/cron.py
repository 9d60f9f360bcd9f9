"""Cron schedules and time zones exactly as a Kubernetes CronJob understands them.

Kubernetes validates `spec.schedule` with robfig/cron v3.0.1's standard parser and fires at that
library's `SpecSchedule.Next`, with the schedule parsed as `TZ=<timeZone> <schedule>`. A Python
cron library differs in many small ways (day-of-week 7, `?`, names, daylight-saving gaps and
repeats, the five-year search limit), so this module re-states those rules from their documented
behaviour and is checked against robfig/cron itself by `tests/unit/test_cron_differential.py`.

Go's clock is mirrored on integer Unix seconds: `_go_date` converts a wall-clock time to an
instant the way Go's `time.Date` does (which, inside a spring-forward gap or a fall-back repeat,
is not what Python's `fold` gives), and `_go_load_location` finds zones where Go's
`time.LoadLocation` would (the system zoneinfo folders, then the embedded tzdata that
kube-apiserver links in; the `tzdata` package stands in for the latter).
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import io
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "CronError",
    "EverySchedule",
    "Schedule",
    "SpecSchedule",
    "fire_minutes",
    "load_time_zone",
    "next_fire_times",
    "parse_schedule",
    "validate_time_zone",
]


class CronError(ValueError):
    """A schedule or time zone that a Kubernetes CronJob would reject; the message says why."""


# robfig marks a field written with `*` or `?` (and no step above 1) with this bit; it decides
# whether day-of-month and day-of-week combine with AND (either starred) or OR (neither).
STAR_BIT = 1 << 63

# Go's unicode.IsSpace, every character of it: what strings.Fields splits a schedule on (Python's
# str.split also splits on U+001C..U+001F, which Go does not) and what CEL's trim() strips.
GO_SPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_FIELD_SEPARATOR = re.compile(f"[{re.escape(GO_SPACE)}]+")
_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64_MAX = (1 << 63) - 1


@dataclass(frozen=True)
class _Field:
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] is the value low + i

    def value_of(self, name: str) -> int | None:
        key = _go_lower(name)
        return self.low + self.names.index(key) if key in self.names else None


_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DOM = _Field("day-of-month", 1, 31)
_MONTH = _Field(
    "month",
    1,
    12,
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
)
_DOW = _Field("day-of-week", 0, 6, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
_FIELDS = (_MINUTE, _HOUR, _DOM, _MONTH, _DOW)


@dataclass(frozen=True)
class SpecSchedule:
    """Bit sets of the allowed minutes, hours, days, months and weekdays (plus STAR_BIT)."""

    minute: int
    hour: int
    dom: int
    month: int
    dow: int


@dataclass(frozen=True)
class EverySchedule:
    """`@every <duration>`: fires every `seconds` after the previous instant, in any zone."""

    seconds: int


Schedule = SpecSchedule | EverySchedule


def _bits(low: int, high: int, step: int = 1) -> int:
    return sum(1 << i for i in range(low, high + 1, step))


def _all(field: _Field) -> int:
    return _bits(field.low, field.high) | STAR_BIT


_DESCRIPTORS: dict[str, SpecSchedule] = {
    "@yearly": SpecSchedule(1, 1, 1 << 1, 1 << 1, _all(_DOW)),
    "@annually": SpecSchedule(1, 1, 1 << 1, 1 << 1, _all(_DOW)),
    "@monthly": SpecSchedule(1, 1, 1 << 1, _all(_MONTH), _all(_DOW)),
    "@weekly": SpecSchedule(1, 1, _all(_DOM), _all(_MONTH), 1 << 0),
    "@daily": SpecSchedule(1, 1, _all(_DOM), _all(_MONTH), _all(_DOW)),
    "@midnight": SpecSchedule(1, 1, _all(_DOM), _all(_MONTH), _all(_DOW)),
    "@hourly": SpecSchedule(1, _all(_HOUR), _all(_DOM), _all(_MONTH), _all(_DOW)),
}
_EVERY = "@every "


def _go_lower(text: str) -> str:
    """strings.ToLower as far as it can matter here: two non-ASCII letters lower to ASCII."""
    return "".join(
        "i" if c == "\u0130" else "k" if c == "\u212a" else c.lower() if c.isascii() else c
        for c in text
    )


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_schedule(text: str) -> Schedule:
    """Parse `text` as a CronJob's `spec.schedule`; raise CronError naming the field at fault."""
    if not isinstance(text, str):
        raise CronError(f"schedule must be a string, not {type(text).__name__}")
    return _parse_text(text)


# The operator parses each ScheduledRun's schedule several times per reconcile (validation, the
# next fire time, the load, missed ticks), and many objects share a schedule: parsing was a tenth
# of its CPU per ScheduledRun (bench: issue 25 §3). A parsed schedule is an immutable value.
@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> Schedule:
    if text == "":
        raise CronError(
            "schedule is empty: give five fields (minute hour day-of-month month day-of-week) "
            "or a macro like @daily"
        )
    if "TZ" in text:
        raise CronError(
            f"schedule {text!r} must not contain TZ or CRON_TZ: put the zone in timeZone instead"
        )
    if text.startswith("@"):
        return _parse_descriptor(text)
    fields = [f for f in _FIELD_SEPARATOR.split(text) if f]
    if len(fields) != len(_FIELDS):
        raise CronError(
            f"schedule {text!r} has {len(fields)} field{'s' if len(fields) != 1 else ''}; "
            "it needs exactly 5 (minute hour day-of-month month day-of-week) "
            "or a macro like @hourly"
        )
    minute, hour, dom, month, dow = (
        _parse_field(value, field) for value, field in zip(fields, _FIELDS, strict=True)
    )
    return SpecSchedule(minute, hour, dom, month, dow)


def _parse_descriptor(text: str) -> Schedule:
    if text in _DESCRIPTORS:
        return _DESCRIPTORS[text]
    if text.startswith(_EVERY):
        nanoseconds = _go_parse_duration(text[len(_EVERY) :])
        # robfig rounds below one second up to one second and drops sub-second parts.
        return EverySchedule(max(nanoseconds, 10**9) // 10**9)
    known = ", ".join(sorted(_DESCRIPTORS))
    raise CronError(f"unknown macro {text!r}: use one of {known} or '@every <duration>'")


def _parse_field(text: str, field: _Field) -> int:
    # Commas separate ranges; empty pieces (`1,,2` or a lone `,`) are skipped, as robfig does.
    bits = 0
    for expr in (piece for piece in text.split(",") if piece):
        bits |= _parse_range(expr, field)
    return bits


def _parse_range(expr: str, field: _Field) -> int:
    where = f"{field.label} field"
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    star = 0
    if low_high[0] in ("*", "?"):
        # robfig looks at nothing after the `*` in the range part: `*-5` is a star.
        start, end, star = field.low, field.high, STAR_BIT
    else:
        start = _value(low_high[0], field)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _value(low_high[1], field)
        else:
            raise CronError(f"{where}: {expr!r} has more than one '-'")
    step = 1
    if len(range_and_step) == 2:
        step = _go_atoi(range_and_step[1], where, "a whole-number step")
        if step < 0:
            raise CronError(f"{where}: step {range_and_step[1]} in {expr!r} must be above zero")
        if len(low_high) == 1:
            end = field.high  # `N/step` means `N-max/step`
        if step > 1:
            star = 0
    elif len(range_and_step) > 2:
        raise CronError(f"{where}: {expr!r} has more than one '/'")
    for value in (start, end):
        if value > field.high:
            raise CronError(f"{where}: {_above_max(value, field)}")
    if start < field.low:
        raise CronError(f"{where}: {start} is below the minimum {field.low}")
    if start > end:
        raise CronError(f"{where}: range {expr!r} runs backwards ({start} is after {end})")
    if step == 0:
        raise CronError(f"{where}: step in {expr!r} must be above zero")
    return _bits(start, end, step) | star


def _above_max(value: int, field: _Field) -> str:
    if field is _DOW and value == 7:
        return "7 is out of range 0-6 (use 0 for Sunday)"
    return f"{value} is above the maximum {field.high}"


def _value(token: str, field: _Field) -> int:
    named = field.value_of(token) if field.names else None
    if named is not None:
        return named
    what = "a number"
    if field.names:
        what = (
            f"a number or a {field.label} name ({field.names[0].upper()}-{field.names[-1].upper()})"
        )
    return _go_atoi(token, f"{field.label} field", what)


def _go_atoi(token: str, where: str, what: str) -> int:
    """strconv.Atoi: ASCII digits with an optional sign, within int64."""
    if not _GO_INT.fullmatch(token):
        shown = repr(token) if token else "an empty value"
        raise CronError(f"{where}: {shown} is not {what}")
    value = int(token)
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise CronError(f"{where}: {token} is far too large")
    return value


_DURATION_UNITS = {
    b"ns": 1,
    b"us": 10**3,
    "\u00b5s".encode(): 10**3,
    "\u03bcs".encode(): 10**3,
    b"ms": 10**6,
    b"s": 10**9,
    b"m": 60 * 10**9,
    b"h": 3600 * 10**9,
}
_NS_LIMIT = 1 << 63


def _go_parse_duration(text: str) -> int:
    """time.ParseDuration in nanoseconds: `1h30m`, `1.5h`, `-5m`, `0`, units ns us ms s m h."""
    bad = CronError(
        f"@every needs a Go duration such as 90s, 15m or 1h30m (units ns, us, ms, s, m, h); "
        f"{text!r} is not one"
    )
    s = text.encode()
    negative = s[:1] == b"-"
    if s[:1] in (b"-", b"+"):
        s = s[1:]
    if s == b"0":
        return 0
    if not s:
        raise bad
    total = 0
    while s:
        if not (s[:1] == b"." or s[:1].isdigit()):
            raise bad
        whole, s, pre = _leading_digits(s)
        fraction, scale, post = 0, 1.0, False
        if s[:1] == b".":
            fraction, scale, s, post = _leading_fraction(s[1:])
        if not (pre or post):
            raise bad
        end = 0
        while end < len(s) and not (s[end : end + 1] == b"." or s[end : end + 1].isdigit()):
            end += 1
        unit = _DURATION_UNITS.get(s[:end])
        if unit is None or whole is None or whole > _NS_LIMIT // unit:
            raise bad
        s = s[end:]
        value = whole * unit
        if fraction > 0:
            value += int(float(fraction) * (float(unit) / scale))
            if value > _NS_LIMIT:
                raise bad
        total += value
        if total > _NS_LIMIT:
            raise bad
    if negative:
        return -total
    if total > _NS_LIMIT - 1:
        raise bad
    return total


def _leading_digits(s: bytes) -> tuple[int | None, bytes, bool]:
    i, value = 0, 0
    while i < len(s) and s[i : i + 1].isdigit():
        if value > _NS_LIMIT // 10:
            return None, s[i:], True
        value = value * 10 + s[i] - 48
        if value > _NS_LIMIT:
            return None, s[i:], True
        i += 1
    return value, s[i:], i > 0


def _leading_fraction(s: bytes) -> tuple[int, float, bytes, bool]:
    i, value, scale, overflow = 0, 0, 1.0, False
    while i < len(s) and s[i : i + 1].isdigit():
        if not overflow:
            if value > (_NS_LIMIT - 1) // 10 or value * 10 + s[i] - 48 > _NS_LIMIT:
                overflow = True
            else:
                value = value * 10 + s[i] - 48
                scale *= 10
        i += 1
    return value, scale, s[i:], i > 0


# ---------------------------------------------------------------------------------------------
# Time zones

# Per name component, what Kubernetes' CronJob validation allows before it asks Go.
_ZONE_PART = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")
# Where Go's time.LoadLocation looks on Linux, in order; then its embedded tzdata.
_ZONE_SOURCES = (
    "/usr/share/zoneinfo",
    "/usr/share/lib/zoneinfo",
    "/usr/lib/locale/TZ",
    "/etc/zoneinfo",
)


def validate_time_zone(name: str) -> None:
    """Accept exactly the `timeZone` values a CronJob accepts; raise CronError otherwise."""
    load_time_zone(name)


def load_time_zone(name: str) -> tzinfo:
    """The zone a CronJob with this `timeZone` would use; CronError if Kubernetes rejects it."""
    if not isinstance(name, str):
        raise CronError(f"time zone must be a string, not {type(name).__name__}")
    if name == "":
        raise CronError("time zone is empty: leave timeZone out for UTC, or name a zone")
    for part in name.split("/"):
        if part in (".", "..") or part.startswith("-") or not _ZONE_PART.fullmatch(part):
            raise CronError(
                f"unknown time zone {name!r}: an IANA name is parts of letters, digits, '.', "
                "'-', '_' or '+' joined by '/', such as Europe/Berlin"
            )
    if name.lower() == "local":
        raise CronError(
            f"time zone {name!r} is not allowed: name an explicit IANA zone such as Europe/Berlin"
        )
    zone = _go_load_location(name)
    if zone is None:
        raise CronError(
            f"unknown time zone {name!r} (names are case-sensitive, e.g. America/New_York)"
        )
    return zone


@functools.lru_cache(maxsize=512)
def _go_load_location(name: str) -> tzinfo | None:
    """time.LoadLocation for a name that passed the syntax check; None when Go finds nothing."""
    if name == "UTC":
        return UTC
    if ".." in name or name.startswith(("/", "\\")):
        return None
    for source in _ZONE_SOURCES:
        try:
            with open(f"{source}/{name}", "rb") as handle:
                zone = _tzif_zone(handle.read(), name)
        except OSError:
            continue
        if zone is not None:
            return zone
    return _embedded_zone(name)


def _embedded_zone(name: str) -> tzinfo | None:
    parts = name.split("/")
    if any(part in ("", ".") for part in parts):
        return None  # Go looks the name up verbatim in its zip, where such names never occur
    try:
        resource = importlib.resources.files("tzdata.zoneinfo").joinpath(*parts)
        if resource.is_file():
            return _tzif_zone(resource.read_bytes(), name)
    except (ModuleNotFoundError, OSError):
        pass
    return None


def _tzif_zone(data: bytes, name: str) -> tzinfo | None:
    if not data.startswith(b"TZif"):
        return None
    try:
        return ZoneInfo.from_file(io.BytesIO(data), key=name)
    except (ValueError, IndexError, OSError):
        return None


# ---------------------------------------------------------------------------------------------
# Next fire times


def next_fire_times(schedule: str, time_zone: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` times (aware, UTC) that a CronJob with this schedule and zone fires.

    The first is robfig's `Next(after)`, each further one `Next` of the previous one, as the
    CronJob controller computes them.
    Fewer than `count` (or none) come back when the schedule cannot fire within robfig's
    five-year search, such as `0 0 31 2 *`.
    Answers come from `_UPCOMING` when an earlier search already went past them.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be a timezone-aware datetime")
    parsed = parse_schedule(schedule)
    # Whole seconds since the epoch, floored, as Go's Next drops the sub-second part.
    current = (after - _EPOCH) // timedelta(seconds=1)
    if isinstance(parsed, EverySchedule):
        found = [current + parsed.seconds * (i + 1) for i in range(count)]
    else:
        zone = load_time_zone(time_zone)
        if zone is not UTC:  # robfig's search is not always consistent across a DST change
            found = _search(parsed, _Zone(zone), current, count)
        else:
            known = _UPCOMING.get(schedule, current, count)
            if known is None:
                known = _search(parsed, _Zone(zone), current, max(count, UPCOMING_SEARCHED))
                _UPCOMING.put(schedule, current, known)
            found = known[:count]
    return [datetime.fromtimestamp(t, UTC) for t in found]


def _search(parsed: SpecSchedule, zone: _Zone, current: int, count: int) -> list[int]:
    """Up to `count` fire times after `current`, each `Next` of the one before."""
    times: list[int] = []
    for _ in range(count):
        found = _spec_next(parsed, zone, current)
        if found is None:
            break
        times.append(found)
        current = found
    return times


# A search asks for at least this many times, so a later look (the operator's next reconcile, the
# interval gauge's eight ticks, the next preview) is answered from what it found.
UPCOMING_SEARCHED: Final = 10


class _Upcoming:
    """Fire times in UTC already found, per schedule: the times after `anchor`, each `Next` of
    the one before.

    Any later `after` before the last of them is answered from the list: in UTC, `Next` finds the
    first matching second, so the times in between are exactly the list's later ones. (In a zone
    with daylight-saving changes robfig's `Next` from a time between two of a chain's times can
    answer differently, as the differential tests show: such zones are searched each time.)
    Searching a yearly schedule's next times walks robfig's loops
    through every month, day, hour and minute (a millisecond per time); a thousand ScheduledRuns
    on one schedule, each looked at several times, would repeat that search over and over.
    Bounded, least recently used out first; a lock, since the server searches on worker threads.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.found: OrderedDict[str, tuple[int, list[int]]] = OrderedDict()  # -> anchor, times

    def get(self, schedule: str, after: int, count: int) -> list[int] | None:
        """The `count` times after `after`, when known (fewer are never an answer: a search
        from a later time reaches five years further)."""
        with self.lock:
            known = self.found.get(schedule)
            if known is None:
                return None
            self.found.move_to_end(schedule)
        anchor, times = known
        if after < anchor:
            return None
        later = times[bisect.bisect_right(times, after) :]
        return later[:count] if len(later) >= count else None

    def put(self, schedule: str, after: int, times: list[int]) -> None:
        with self.lock:
            self.found[schedule] = (after, times)
            self.found.move_to_end(schedule)
            while len(self.found) > self.size:
                self.found.popitem(last=False)


_UPCOMING: Final = _Upcoming(4096)


def fire_minutes(schedule: str, time_zone: str, start: datetime, minutes: int) -> tuple[int, ...]:
    """The minutes of [start, start + minutes) at which the schedule fires, as offsets in minutes
    from `start` (a whole minute, aware). Each hour of the window is matched against the fields
    in the zone's wall clock, then only its allowed minutes: linear in the window's hours plus the
    fire times, where `next_fire_times` pays a search per fire time. The same times as
    `next_fire_times` outside a daylight-saving change; at one, a minute the wall clock shows twice
    counts twice. `@every` schedules count from their CronJob's creation, which a schedule alone
    does not know: none.
    """
    if start.tzinfo is None or start.utcoffset() is None or start.second or start.microsecond:
        raise ValueError("start must be a timezone-aware whole minute")
    parsed = parse_schedule(schedule)
    if isinstance(parsed, EverySchedule):
        return ()
    zone = _Zone(load_time_zone(time_zone))
    first = (start - _EPOCH) // timedelta(seconds=1)
    end = first + minutes * 60
    allowed = [m for m in range(60) if (1 << m) & parsed.minute]
    found: list[int] = []
    hour = first - first % 3600
    while hour < end:
        offset = zone.offset(hour)
        # Zones change their offset on the hour, or on the half or quarter hour: such an hour is
        # matched minute by minute.
        steady = zone.offset(hour + 3599) == offset
        # The UTC minutes whose wall minute is allowed (a zone may be off by 30 or 45 minutes).
        shift = offset // 60
        for minute in sorted((m - shift) % 60 for m in allowed) if steady else range(60):
            instant = hour + minute * 60
            if instant < first or instant >= end:
                continue
            here = offset if steady else zone.offset(instant)
            days, seconds = divmod(instant + here, _DAY)
            if not (1 << (seconds // 60 % 60)) & parsed.minute:
                continue
            if not (1 << (seconds // 3600)) & parsed.hour:
                continue
            day = date.fromordinal(_EPOCH_ORDINAL + days)
            if not (1 << day.month) & parsed.month or not _day_matches(
                parsed, _Wall(day.year, day.month, day.day, 0, 0, 0, (day.weekday() + 1) % 7)
            ):
                continue
            found.append((instant - first) // 60)
        hour += 3600
    return tuple(found)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = 86400


class _Wall(NamedTuple):
    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int  # 0 is Sunday, as in Go


class _Zone:
    """Go's view of a zone over integer Unix seconds."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone
        self._utc = zone is UTC  # most schedules: no offset to look up

    def offset(self, instant: int) -> int:
        if self._utc:
            return 0
        delta = datetime.fromtimestamp(instant, self._zone).utcoffset()
        return 0 if delta is None else delta // timedelta(seconds=1)

    def wall(self, instant: int) -> _Wall:
        days, seconds = divmod(instant + self.offset(instant), _DAY)
        day = date.fromordinal(_EPOCH_ORDINAL + days)
        hour, rest = divmod(seconds, 3600)
        return _Wall(
            day.year, day.month, day.day, hour, rest // 60, rest % 60, (day.weekday() + 1) % 7
        )

    def date(self, year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
        """time.Date: normalise overflowing parts, then pick the offset the way Go does."""
        year += (month - 1) // 12
        month = (month - 1) % 12 + 1
        days = date(year, month, 1).toordinal() - _EPOCH_ORDINAL + day - 1
        local = days * _DAY + hour * 3600 + minute * 60 + second
        # Go looks up the offset at the wall time read as UTC, then re-checks it at the instant
        # that offset gives; the result is the offset in force at that second instant.
        return local - self.offset(local - self.offset(local))

    def add_date(self, instant: int, months: int = 0, days: int = 0) -> int:
        w = self.wall(instant)
        return self.date(w.year, w.month + months, w.day + days, w.hour, w.minute, w.second)


def _day_matches(s: SpecSchedule, w: _Wall) -> bool:
    dom = bool((1 << w.day) & s.dom)
    dow = bool((1 << w.weekday) & s.dow)
    if s.dom & STAR_BIT or s.dow & STAR_BIT:
        return dom and dow
    return dom or dow


# Restarts of the search are bounded by the five-year limit (at most one per hour of five years,
# about 44,000); this guard only stops a loop that robfig itself would not leave.
_MAX_RESTARTS = 1_000_000


def _spec_next(s: SpecSchedule, zone: _Zone, after: int) -> int | None:
    """robfig's SpecSchedule.Next on whole seconds: the first matching second after `after`.

    Field by field from month down to second, it steps until the field matches, resetting the
    smaller fields the first time anything moves; a field wrapping around restarts the search.
    """
    t = after + 1
    moved = False
    year_limit = zone.wall(t).year + 5
    restarts = 0
    while True:  # each pass is one restart ("wrap") of the search
        restarts += 1
        if restarts > _MAX_RESTARTS:
            return None
        w = zone.wall(t)
        if w.year > year_limit:
            return None
        wrapped = False
        while not (1 << w.month) & s.month:
            if not moved:
                moved = True
                t = zone.date(w.year, w.month, 1, 0, 0, 0)
            t = zone.add_date(t, months=1)
            w = zone.wall(t)
            if w.month == 1:
                wrapped = True
                break
        if wrapped:
            continue
        while not _day_matches(s, w):
            if not moved:
                moved = True
                t = zone.date(w.year, w.month, w.day, 0, 0, 0)
            t = zone.add_date(t, days=1)
            w = zone.wall(t)
            if w.hour != 0:
                # Midnight fell into a daylight-saving change: move back onto this day's start.
                t += (24 - w.hour) * 3600 if w.hour > 12 else -w.hour * 3600
                w = zone.wall(t)
            if w.day == 1:
                wrapped = True
                break
        if wrapped:
            continue
        while not (1 << w.hour) & s.hour:
            if not moved:
                moved = True
                t = zone.date(w.year, w.month, w.day, w.hour, 0, 0)
            t += 3600
            w = zone.wall(t)
            if w.hour == 0:
                wrapped = True
                break
        if wrapped:
            continue
        while not (1 << w.minute) & s.minute:
            if not moved:
                moved = True
                t -= t % 60
            t += 60
            w = zone.wall(t)
            if w.minute == 0:
                wrapped = True
                break
        if wrapped:
            continue
        # The standard parser's seconds field is always 0.
        while w.second != 0:
            if not moved:
                moved = True
            t += 1
            w = zone.wall(t)
            if w.second == 0:
                wrapped = True
                break
        if wrapped:
            continue
        return t
