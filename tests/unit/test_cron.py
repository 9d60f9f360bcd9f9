"""generator.schedule.cron: schedule and zone verdicts, error messages, next fire times at fixed
instants.

Covers the shared case tables (cron_cases), the wording of errors, zone loading from a controlled
zoneinfo folder, and hand-checked fire times: daylight-saving gaps and repeats in New York,
Berlin, Lord Howe and Santiago, never-firing and leap-day schedules, @every, and how day-of-month
and day-of-week combine. The exhaustive comparison with robfig/cron is test_cron_differential.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generator.schedule import cron
from generator.schedule.cron import CronError, next_fire_times, parse_schedule, validate_time_zone
from tests.unit.cron_cases import SCHEDULE_CASES, TIME_ZONE_CASES


def _verdict(check: Callable[[str], object], value: str) -> bool:
    try:
        check(value)
    except CronError:
        return False
    return True


@pytest.mark.parametrize(
    ("schedule", "valid"),
    [pytest.param(s, v, id=f"{'ok' if v else 'bad'}:{s!r}") for s, v in SCHEDULE_CASES],
)
def test_schedule_verdict(schedule: str, valid: bool) -> None:
    assert _verdict(parse_schedule, schedule) is valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [pytest.param(n, v, id=f"{'ok' if v else 'bad'}:{n!r}") for n, v in TIME_ZONE_CASES],
)
def test_time_zone_verdict(name: str, valid: bool) -> None:
    assert _verdict(validate_time_zone, name) is valid


def test_case_tables_are_big_enough_and_mixed() -> None:
    assert len(SCHEDULE_CASES) >= 60
    assert len(TIME_ZONE_CASES) >= 20
    assert {v for _, v in SCHEDULE_CASES} == {True, False}
    assert {v for _, v in TIME_ZONE_CASES} == {True, False}


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        pytest.param("60 * * * *", "minute field: 60 is above the maximum 59", id="minute-too-big"),
        pytest.param("* 24 * * *", "hour field: 24 is above the maximum 23", id="hour-too-big"),
        pytest.param("* * 0 * *", "day-of-month field: 0 is below the minimum 1", id="dom-zero"),
        pytest.param("* * * 13 *", "month field: 13 is above the maximum 12", id="month-13"),
        pytest.param(
            "0 0 * * 7",
            "day-of-week field: 7 is out of range 0-6 (use 0 for Sunday)",
            id="dow-seven-means-sunday-elsewhere",
        ),
        pytest.param(
            "0 0 * * 1-7", "day-of-week field: 7 is out of range 0-6", id="dow-range-to-7"
        ),
        pytest.param(
            "*/0 * * * *", "minute field: step in '*/0' must be above zero", id="step-zero"
        ),
        pytest.param(
            "*/-1 * * * *", "minute field: step -1 in '*/-1' must be above zero", id="step-negative"
        ),
        pytest.param(
            "5-3 * * * *", "minute field: range '5-3' runs backwards (5 is after 3)", id="reversed"
        ),
        pytest.param(
            "0 0 * * JAN",
            "day-of-week field: 'JAN' is not a number or a day-of-week name (SUN-SAT)",
            id="month-name-in-dow",
        ),
        pytest.param(
            "0 0 1 MON *",
            "month field: 'MON' is not a number or a month name (JAN-DEC)",
            id="dow-name-in-month",
        ),
        pytest.param("a * * * *", "minute field: 'a' is not a number", id="letters"),
        pytest.param("1- * * * *", "minute field: an empty value is not a number", id="open-range"),
        pytest.param("1-2-3 * * * *", "minute field: '1-2-3' has more than one '-'", id="hyphens"),
        pytest.param("*/5/2 * * * *", "minute field: '*/5/2' has more than one '/'", id="slashes"),
        pytest.param("* * * *", "has 4 fields; it needs exactly 5", id="four-fields"),
        pytest.param("0 0 0 * * *", "has 6 fields; it needs exactly 5", id="six-fields-seconds"),
        pytest.param("", "schedule is empty", id="empty"),
        pytest.param("TZ=UTC 0 0 * * *", "must not contain TZ or CRON_TZ", id="tz-prefix"),
        pytest.param("CRON_TZ=UTC @daily", "put the zone in timeZone instead", id="cron-tz-prefix"),
        pytest.param("@reboot", "unknown macro '@reboot'", id="unknown-macro"),
        pytest.param("@every 1d", "@every needs a Go duration", id="every-days"),
        pytest.param("@every", "unknown macro '@every'", id="every-without-duration"),
    ],
)
def test_schedule_error_message(schedule: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        parse_schedule(schedule)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("", "time zone is empty", id="empty"),
        pytest.param("Local", "'Local' is not allowed", id="local"),
        pytest.param("lOcAl", "'lOcAl' is not allowed", id="local-any-case"),
        pytest.param("utc", "unknown time zone 'utc' (names are case-sensitive", id="lower-case"),
        pytest.param(
            "Europe/../UTC", "unknown time zone 'Europe/../UTC': an IANA name", id="dotdot"
        ),
        pytest.param("/etc/localtime", "unknown time zone '/etc/localtime'", id="absolute-path"),
    ],
)
def test_time_zone_error_message(name: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        validate_time_zone(name)
    assert message in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Zone lookup order, with a zoneinfo folder the test controls


@pytest.fixture
def zone_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Go's zone folders replaced by one empty folder; the embedded tzdata stays."""
    monkeypatch.setattr(cron, "_ZONE_SOURCES", (str(tmp_path),))
    cron._go_load_location.cache_clear()
    yield tmp_path
    cron._go_load_location.cache_clear()


def _new_york_tzif() -> bytes:
    return (Path("/usr/share/zoneinfo/America/New_York")).read_bytes()


@pytest.mark.parametrize(
    ("files", "name", "valid"),
    [
        pytest.param({}, "Europe/Berlin", True, id="embedded-tzdata-when-folder-lacks-it"),
        pytest.param({}, "posixrules", False, id="posixrules-absent"),
        pytest.param({"posixrules": "tzif"}, "posixrules", True, id="posixrules-in-folder"),
        pytest.param({"zone.tab": "text"}, "zone.tab", False, id="folder-file-not-tzif"),
        pytest.param({"Custom/Zone": "tzif"}, "Custom/Zone", True, id="any-tzif-in-folder"),
        pytest.param({"Custom/Zone": "tzif"}, "custom/zone", False, id="case-sensitive"),
        pytest.param({}, "UTC", True, id="utc-needs-no-file"),
        pytest.param({}, "EST5EDT", True, id="est5edt-embedded"),
        pytest.param({}, "Europe/__init__.py", False, id="python-package-file-is-no-zone"),
    ],
)
def test_zone_lookup(zone_folder: Path, files: dict[str, str], name: str, valid: bool) -> None:
    for relative, kind in files.items():
        path = zone_folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_new_york_tzif() if kind == "tzif" else b"# not a zone\n")
    assert _verdict(validate_time_zone, name) is valid


# ---------------------------------------------------------------------------------------------
# Next fire times


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("schedule", "zone", "after", "count", "expected"),
    [
        pytest.param(
            "30 2 * * *",
            "America/New_York",
            "2026-03-07T12:00:00Z",
            3,
            ["2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z", "2026-03-11T06:30:00Z"],
            id="new-york-spring-gap-skips-that-day",
        ),
        pytest.param(
            "30 1 * * *",
            "America/New_York",
            "2026-10-31T12:00:00Z",
            3,
            ["2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"],
            id="new-york-fall-back-fires-twice",
        ),
        pytest.param(
            "0 2 * * *",
            "America/New_York",
            "2026-03-07T00:00:00Z",
            2,
            ["2026-03-07T07:00:00Z", "2026-03-09T06:00:00Z"],
            id="new-york-start-of-gap-skipped",
        ),
        pytest.param(
            "30 2 * * *",
            "Europe/Berlin",
            "2026-03-28T12:00:00Z",
            2,
            ["2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"],
            id="berlin-spring-gap-skips-that-day",
        ),
        pytest.param(
            "30 2 * * *",
            "Europe/Berlin",
            "2026-10-24T12:00:00Z",
            3,
            ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z"],
            id="berlin-fall-back-fires-twice",
        ),
        pytest.param(
            "0 * * * *",
            "Europe/Berlin",
            "2026-10-24T23:30:00Z",
            4,
            [
                "2026-10-25T00:00:00Z",
                "2026-10-25T01:00:00Z",
                "2026-10-25T02:00:00Z",
                "2026-10-25T03:00:00Z",
            ],
            id="berlin-hourly-through-fall-back-every-real-hour",
        ),
        pytest.param(
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2026-10-02T00:00:00Z",
            3,
            ["2026-10-02T15:45:00Z", "2026-10-04T15:15:00Z", "2026-10-05T15:15:00Z"],
            id="lord-howe-half-hour-gap",
        ),
        pytest.param(
            "0 0 * * *",
            "America/Santiago",
            "2026-09-04T12:00:00Z",
            3,
            ["2026-09-05T04:00:00Z", "2026-09-07T03:00:00Z", "2026-09-08T03:00:00Z"],
            id="santiago-midnight-gap-skips-the-day",
        ),
        pytest.param(
            "0 9 * * *",
            "Asia/Kathmandu",
            "2026-01-01T00:00:00Z",
            2,
            ["2026-01-01T03:15:00Z", "2026-01-02T03:15:00Z"],
            id="kathmandu-quarter-hour-offset",
        ),
        pytest.param("0 0 31 2 *", "UTC", "2026-01-01T00:00:00Z", 3, [], id="never-feb-31"),
        pytest.param(
            "0 0 30 2 *", "Europe/Berlin", "2026-01-01T00:00:00Z", 1, [], id="never-feb-30"
        ),
        pytest.param(
            "0 0 29 2 *",
            "UTC",
            "2026-01-01T00:00:00Z",
            2,
            ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"],
            id="leap-day",
        ),
        pytest.param(
            "0 0 29 2 *",
            "UTC",
            "2097-03-01T00:00:00Z",
            1,
            [],
            id="leap-day-beyond-five-year-search",
        ),
        pytest.param(
            "0 0 1 * 5",
            "UTC",
            "2026-02-01T12:00:00Z",
            6,
            [
                "2026-02-06T00:00:00Z",
                "2026-02-13T00:00:00Z",
                "2026-02-20T00:00:00Z",
                "2026-02-27T00:00:00Z",
                "2026-03-01T00:00:00Z",
                "2026-03-06T00:00:00Z",
            ],
            id="dom-or-dow-when-neither-starred",
        ),
        pytest.param(
            "0 0 * * 5",
            "UTC",
            "2026-02-01T12:00:00Z",
            2,
            ["2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z"],
            id="dom-star-and-dow",
        ),
        pytest.param(
            "0 0 1-31 * 5",
            "UTC",
            "2026-02-01T12:00:00Z",
            3,
            ["2026-02-02T00:00:00Z", "2026-02-03T00:00:00Z", "2026-02-04T00:00:00Z"],
            id="dom-full-range-is-no-star-so-or",
        ),
        pytest.param(
            "0 0 */2 * 1",
            "UTC",
            "2026-02-01T12:00:00Z",
            4,
            [
                "2026-02-02T00:00:00Z",
                "2026-02-03T00:00:00Z",
                "2026-02-05T00:00:00Z",
                "2026-02-07T00:00:00Z",
            ],
            id="dom-star-step-2-loses-star-so-or",
        ),
        pytest.param(
            "@every 90m",
            "Asia/Kathmandu",
            "2026-01-01T00:00:10.750000Z",
            2,
            ["2026-01-01T01:30:10Z", "2026-01-01T03:00:10Z"],
            id="every-ignores-zone-and-drops-fraction",
        ),
        pytest.param(
            "@every 500ms",
            "UTC",
            "2026-01-01T00:00:00Z",
            2,
            ["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"],
            id="every-below-a-second-is-one-second",
        ),
        pytest.param(
            "@weekly",
            "UTC",
            "2026-02-01T00:00:00Z",
            2,
            ["2026-02-08T00:00:00Z", "2026-02-15T00:00:00Z"],
            id="weekly-is-sunday-midnight-strictly-after",
        ),
        pytest.param("* * * * *", "UTC", "2026-01-01T00:00:00Z", 0, [], id="count-zero"),
    ],
)
def test_fire_times_are_the_ticks_strictly_after_the_start_in_utc(
    schedule: str, zone: str, after: str, count: int, expected: list[str]
) -> None:
    times = next_fire_times(schedule, zone, _utc(after), count)
    assert [t.isoformat().replace("+00:00", "Z") for t in times] == expected
    assert all(t.tzinfo is UTC for t in times)


@pytest.mark.parametrize(
    ("schedule", "zone"),
    [
        pytest.param("0 0 * * 7", "UTC", id="bad-schedule"),
        pytest.param("@daily", "Local", id="bad-zone"),
    ],
)
def test_next_fire_times_rejects_what_kubernetes_rejects(schedule: str, zone: str) -> None:
    with pytest.raises(CronError):
        next_fire_times(schedule, zone, datetime(2026, 1, 1, tzinfo=UTC), 1)


def test_next_fire_times_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire_times("@daily", "UTC", datetime(2026, 1, 1), 1)


@pytest.mark.parametrize("schedule", ["0 0 1 1 *", "*/7 3-5 * * 1-5", "0 0 29 2 *", "30 2 * * *"])
def test_utc_fire_times_come_from_an_earlier_search_and_equal_a_fresh_one(
    schedule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A yearly schedule's search walks robfig's loops through a year per time; in UTC the times
    one search found answer any later instant before their last, without searching again."""
    searches: list[int] = []
    real = cron._spec_next

    def counted(*args: object) -> int | None:
        searches.append(1)
        return real(*args)  # type: ignore[arg-type]

    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    monkeypatch.setattr(cron, "_UPCOMING", cron._Upcoming(8))
    first = next_fire_times(schedule, "UTC", start, 3)
    monkeypatch.setattr(cron, "_spec_next", counted)
    for after in [start, first[0], first[0].replace(second=1), first[1], first[2]]:
        from_memory = next_fire_times(schedule, "UTC", after, 2)
        assert not searches, after
        monkeypatch.setattr(cron, "_UPCOMING", cron._Upcoming(8))
        assert next_fire_times(schedule, "UTC", after, 2) == from_memory
        monkeypatch.setattr(cron, "_spec_next", real)
        next_fire_times(schedule, "UTC", start, 3)  # remembered again, from `start`
        monkeypatch.setattr(cron, "_spec_next", counted)
        searches.clear()
    # Before the remembered start, or past what was found, it searches.
    next_fire_times(schedule, "UTC", start.replace(minute=0), 1)
    assert searches


def test_remembered_fire_times_are_bounded() -> None:
    upcoming = cron._Upcoming(2)
    for i in range(5):
        upcoming.put(f"{i} * * * *", 0, [60 * i + 3600 * k for k in range(10)])
    assert list(upcoming.found) == ["3 * * * *", "4 * * * *"]
    assert upcoming.get("4 * * * *", 0, 2) == [240, 3840]
    assert upcoming.get("4 * * * *", 0, 11) is None  # never fewer than asked
