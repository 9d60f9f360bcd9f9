"""The per-minute load of schedules (generator/schedule/load.py) and the window scan it stands on
(`cron.fire_minutes`): fire minutes agree with `next_fire_times` (itself checked against
robfig/cron) across zones and daylight-saving changes; crowded minutes, the fullest minute, the
`H` suggestion and the count of schedules sharing a fire time as literal tables. Not covered
here: the operator's warning on a real control plane (tests/integration/test_hot_minute.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from generator.schedule import cron, load
from generator.schedule.load import Crowded, Firing

DAY = 24 * 60


def next_fires_before(schedule: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """next_fire_times one at a time from just before `start`, up to `end`."""
    found: list[datetime] = []
    after = start - timedelta(seconds=1)
    while (step := cron.next_fire_times(schedule, zone, after, 1)) and step[0] < end:
        found.append(step[0])
        after = step[0]
    return found


@pytest.mark.parametrize(
    ("schedule", "zone", "start"),
    [
        pytest.param(
            "* * * * *", "UTC", datetime(2026, 3, 28, 0, 7, tzinfo=UTC), id="every-minute"
        ),
        pytest.param("0 9 * * *", "Europe/Berlin", datetime(2026, 3, 28, tzinfo=UTC), id="daily"),
        pytest.param(
            "*/7 2-3 * * 0", "Europe/Berlin", datetime(2026, 3, 28, tzinfo=UTC), id="spring-gap"
        ),
        pytest.param(
            "*/7 2-3 * * 0", "Europe/Berlin", datetime(2026, 10, 24, tzinfo=UTC), id="fall-repeat"
        ),
        pytest.param(
            "30 1 * * *", "America/New_York", datetime(2026, 10, 31, tzinfo=UTC), id="ny-fall"
        ),
        pytest.param("15 * 29 2 *", "UTC", datetime(2028, 2, 27, tzinfo=UTC), id="leap-day"),
        pytest.param(
            "0 0 1 * 1", "Asia/Kolkata", datetime(2026, 5, 30, tzinfo=UTC), id="half-hour"
        ),
        pytest.param("0 * * * *", "Asia/Kathmandu", datetime(2026, 1, 1, tzinfo=UTC), id="45-min"),
        pytest.param(
            "*/5 * * * *", "Australia/Lord_Howe", datetime(2026, 4, 4, tzinfo=UTC), id="half-dst"
        ),
        pytest.param("@every 5m", "UTC", datetime(2026, 1, 1, tzinfo=UTC), id="every-is-none"),
    ],
)
def test_fire_minutes_agree_with_next_fire_times(schedule: str, zone: str, start: datetime) -> None:
    minutes = 3 * DAY
    end = start + timedelta(minutes=minutes)
    expected = (
        ()
        if schedule.startswith("@every")
        else tuple(
            int((t - start).total_seconds()) // 60
            for t in next_fires_before(schedule, zone, start, end)
        )
    )
    assert cron.fire_minutes(schedule, zone, start, minutes) == expected


def test_fire_minutes_refuses_a_start_inside_a_minute() -> None:
    with pytest.raises(ValueError, match="whole minute"):
        cron.fire_minutes("* * * * *", "UTC", datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC), 10)


NOW = datetime(2026, 6, 1, 8, 30, 12, tzinfo=UTC)
NINE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def fire(name: str, schedule: str, zone: str = "UTC", written: str | None = None) -> Firing:
    return Firing(("team", name), schedule, zone, written if written is not None else schedule)


@pytest.mark.parametrize(
    ("firings", "capacity", "crowded", "fullest"),
    [
        pytest.param(
            [fire("a", "0 9 * * *"), fire("b", "0 9 * * *"), fire("c", "0 9 * * *")],
            2,
            {("team", n): Crowded(NINE, 3, "H 9 * * *") for n in ("a", "b", "c")},
            (NINE, 3),
            id="three-alike-over-two",
        ),
        pytest.param(
            [fire("a", "0 9 * * *"), fire("b", "0 9 * * *"), fire("c", "0 9 * * *")],
            3,
            {},
            (NINE, 3),
            id="at-capacity-is-fine",
        ),
        pytest.param(
            [
                fire("a", "0 9 * * *"),
                fire("b", "0 11 * * *", "Europe/Berlin"),  # 09:00 UTC in summer
                fire("c", "7 9 * * *", written="H 9 * * *"),
            ],
            1,
            {
                ("team", "a"): Crowded(NINE, 2, "H 9 * * *"),
                ("team", "b"): Crowded(NINE, 2, "H 11 * * *"),
            },
            (NINE, 2),
            id="zones-meet-hashed-apart",
        ),
        pytest.param(
            [fire("a", "*/15 * * * *"), fire("b", "0 * * * *"), fire("c", "@every 1m")],
            1,
            {
                ("team", "a"): Crowded(NINE, 2, "H/15 * * * *"),
                ("team", "b"): Crowded(NINE, 2, "H * * * *"),
            },
            (NINE, 2),
            id="hourly-meets-quarterly-every-left-out",
        ),
        pytest.param([], 1, {}, None, id="nothing"),
    ],
)
def test_crowded_minutes(
    firings: list[Firing],
    capacity: int,
    crowded: dict[tuple[str, str], Crowded],
    fullest: tuple[datetime, int] | None,
) -> None:
    found_load, found = load.crowded(firings, NOW, capacity)
    assert (found, found_load.fullest()) == (crowded, fullest)


@pytest.mark.parametrize(
    ("schedule", "suggested"),
    [
        pytest.param("0 9 * * *", "H 9 * * *", id="minute"),
        pytest.param("30  2 * * 1-5", "H 2 * * 1-5", id="weekdays-spaces"),
        pytest.param("*/15 * * * *", "H/15 * * * *", id="step"),
        pytest.param("0/20 * * * *", "H/20 * * * *", id="step-from-zero"),
        pytest.param("5-35/10 9 * * *", "H(5-35)/10 9 * * *", id="range-step"),
        pytest.param("@daily", "H 0 * * *", id="macro"),
        pytest.param("@hourly", "H * * * *", id="hourly"),
        pytest.param("* * * * *", None, id="every-minute"),
        pytest.param("*/1 * * * *", None, id="step-one"),
        pytest.param("H 9 * * *", None, id="already-hashed"),
        pytest.param("0,30 9 * * *", None, id="list"),
        pytest.param("@every 1h", None, id="every"),
        pytest.param("0 9 * *", None, id="four-fields"),
    ],
)
def test_suggest_hashed(schedule: str, suggested: str | None) -> None:
    assert load.suggest_hashed(schedule) == suggested


def test_sharing_counts_the_others_at_each_time() -> None:
    others = [fire("a", "0 9 * * *"), fire("b", "0 9 * * *"), fire("c", "0 * * * *")]
    times = [NINE, NINE + timedelta(hours=1), NINE + timedelta(minutes=1)]
    assert load.sharing(times, others) == [3, 1, 0]


def test_firing_of_a_scheduledrun_expands_h_in_its_namespace() -> None:
    sr = {"metadata": {"name": "nightly"}, "spec": {"schedule": "H 2 * * *", "timeZone": "UTC"}}
    assert load.firing(sr, "team-a") == Firing(
        ("team-a", "nightly"), "51 2 * * *", "UTC", "H 2 * * *"
    )
    assert load.firing({"metadata": {"name": "x"}, "spec": {"schedule": "61 * * * *"}}) is None
