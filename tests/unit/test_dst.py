"""generator.schedule.dst: the zone's offset changes and the wall-clock times a schedule skips or
fires twice there, checked against the cron engine's own fire times in the real zone. Not covered:
the engine itself (test_cron and the robfig differential)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from generator.schedule.cron import load_time_zone, next_fire_times
from generator.schedule.dst import MAX_LISTED, dst_notes, transitions

AFTER = datetime(2026, 11, 30, tzinfo=UTC)


def local_fires_on(schedule: str, zone: str, day: date) -> list[datetime]:
    """Naive wall-clock fire times on `day`, as the engine fires them in `zone`."""
    start = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=1)
    tz = load_time_zone(zone)
    fires = next_fire_times(schedule, zone, start, 400)
    return [t.astimezone(tz).replace(tzinfo=None) for t in fires if t.astimezone(tz).date() == day]


def test_berlin_changes_in_a_year() -> None:
    changes = transitions("Europe/Berlin", AFTER, AFTER + timedelta(days=366))
    assert [(c.kind, c.instant, c.before.hour, c.after.hour) for c in changes] == [
        ("skip", datetime(2027, 3, 28, 1, 0, tzinfo=UTC), 2, 3),
        ("repeat", datetime(2027, 10, 31, 1, 0, tzinfo=UTC), 3, 2),
    ]


def test_a_zone_without_dst_has_no_notes() -> None:
    assert dst_notes("30 2 * * *", "Asia/Tokyo", AFTER) == []


def test_every_ignores_the_zone() -> None:
    assert dst_notes("@every 1h", "Europe/Berlin", AFTER) == []


@pytest.mark.parametrize(
    ("schedule", "zone"),
    [
        pytest.param("30 2 * * *", "Europe/Berlin", id="daily in the gap"),
        pytest.param("*/15 * * * *", "America/New_York", id="every quarter hour"),
        pytest.param("0 2 * * *", "Australia/Lord_Howe", id="half-hour change"),
        pytest.param("0 12 * * *", "Europe/Berlin", id="noon: untouched"),
        pytest.param("30 2 * * 0", "Europe/Berlin", id="sundays only"),
    ],
)
def test_notes_match_the_engine(schedule: str, zone: str) -> None:
    notes = dst_notes(schedule, zone, AFTER)
    assert notes, "every zone here changes its offset twice a year"
    for note in notes:
        day = note.transition.instant.astimezone(load_time_zone(zone)).date()
        fired = Counter(local_fires_on(schedule, zone, day))
        if note.transition.kind == "skip":
            assert not set(note.times) & set(fired), "a listed time fired after all"
        else:
            assert all(fired[t] == 2 for t in note.times), fired
            doubled = {t for t, n in fired.items() if n == 2}
            assert doubled == set(note.times)


def test_every_minute_is_not_listed_one_by_one() -> None:
    notes = dst_notes("* * * * *", "Europe/Berlin", AFTER)
    assert all(note.more and len(note.times) == MAX_LISTED for note in notes)
