"""The fire-time preview (generator/spec/preview.py) that `scheduledrun next` prints and the REST
API answers: fixed instants, literal expectations. How each surface words it is in
test_cli_offline.py and test_server_views.py."""

from __future__ import annotations

from datetime import UTC, datetime

from generator.spec.preview import preview
from tests import builders

AFTER = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(hour: int, day: int = 1, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_a_valid_schedule_gives_its_next_times() -> None:
    got = preview(builders.scheduledrun(schedule="30 * * * *"), AFTER, 3)
    assert (got.blocking, got.schedule, got.found) == ((), "30 * * * *", 3)
    assert got.times == (at(12, minute=30), at(13, minute=30), at(14, minute=30))
    assert (got.time_zone, got.suspended) == ("UTC", False)


def test_h_is_expanded_for_the_objects_namespace_else_the_given_one() -> None:
    own = preview(builders.scheduledrun(schedule="H 2 * * *"), AFTER, 1)
    given = preview(builders.scheduledrun(namespace=None, schedule="H 2 * * *"), AFTER, 1)
    assert (own.schedule, given.schedule) == ("51 2 * * *", "5 2 * * *")


def test_a_bad_time_zone_blocks_and_names_the_field() -> None:
    got = preview(builders.scheduledrun(timeZone="Mars/Olympus"), AFTER, 3)
    assert [(p.reason, p.field) for p in got.blocking] == [("InvalidTimeZone", "spec.timeZone")]
    assert (got.times, got.schedule) == ((), None)


def test_a_problem_elsewhere_is_noted_but_does_not_block() -> None:
    got = preview(builders.scheduledrun(timeout="forever"), AFTER, 1)
    assert got.blocking == ()
    assert [p.field for p in got.problems] == ["spec.timeout"]
    assert got.times == (at(13),)


def test_the_policies_hold_back_times_and_say_why() -> None:
    sr = builders.scheduledrun(maxRuns=3, status={"scheduledRuns": 2})
    got = preview(sr, AFTER, 3)
    assert (got.found, got.times) == (3, (at(13),))
    assert got.notes == ("maxRuns: 1 of 3 scheduled runs left",)


def test_a_schedule_no_date_matches_finds_nothing() -> None:
    got = preview(builders.scheduledrun(schedule="0 0 30 2 *"), AFTER, 3)
    assert (got.blocking, got.found, got.times) == ((), 0, ())


def test_not_an_object_blocks() -> None:
    got = preview([], AFTER, 3)  # type: ignore[arg-type]
    assert [p.field for p in got.blocking] == [""]
