"""The CRD's CEL rules, evaluated offline on tables of values.

The rules use a small subset of CEL (`self.matches(r'...')`, `startsWith`, `contains`,
`lowerAscii`, `!`, `&&`, `||`, `!=`); `cel_rule` translates exactly that subset to Python and
fails on anything else, and `re2_to_python` maps the RE2 spellings used (`\\x{..}`, `\\pZ`, `$`)
to Python's `re`. What this does not cover: that the API server compiles the rules and their
cost fits its limits; that is checked by applying the CRD on the real control plane.

The schedule rules must never reject what a CronJob accepts (robfig/cron v3.0.1's standard
parser); they may let through what only the operator can tell (ordered ranges), which then
gets Accepted=False InvalidSchedule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.duration import parse_duration
from tests.unit.cron_cases import SCHEDULE_CASES, TIME_ZONE_CASES
from tests.unit.test_crd_schema import node_at

# Unicode White_Space minus the ASCII controls and NEL, spelled out: what RE2's \pZ means.
_PZ = "\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


def re2_to_python(pattern: str) -> re.Pattern[str]:
    r"""Translate the RE2 constructs the CRD uses into Python `re` syntax."""
    out = re.sub(r"\\x\{([0-9a-fA-F]+)\}", lambda m: f"\\u{int(m.group(1), 16):04x}", pattern)
    out = out.replace(r"\pZ", _PZ)
    # RE2's `$` is end of text; Python's also matches before a final newline.
    out = re.sub(r"(?<!\\)\$", r"\\Z", out)
    return re.compile(out)


_TOKEN = re.compile(
    r"""\s+|\|\||&&|!=|!|\(|\)
    |self\.matches\(r'(?P<regex>[^']*)'\)
    |self\.(?P<method>startsWith|contains)\('(?P<arg>[^']*)'\)
    |self\.lowerAscii\(\)
    |'(?P<literal>[^']*)'""",
    re.VERBOSE,
)


def cel_rule(rule: str) -> Callable[[str], bool]:
    """Compile one rule of the CRD's CEL subset into a Python predicate on `self`."""
    parts: list[str] = []
    regexes: list[re.Pattern[str]] = []
    pos = 0
    while pos < len(rule):
        m = _TOKEN.match(rule, pos)
        assert m, f"CEL outside the tested subset at {rule[pos : pos + 40]!r}"
        text = m.group(0)
        if m.group("regex") is not None:
            regexes.append(re2_to_python(m.group("regex")))
            parts.append(f" (R[{len(regexes) - 1}].search(s) is not None) ")
        elif m.group("method") == "startsWith":
            parts.append(f" s.startswith({m.group('arg')!r}) ")
        elif m.group("method") == "contains":
            parts.append(f" ({m.group('arg')!r} in s) ")
        elif text == "self.lowerAscii()":
            parts.append(" s.lower() ")
        elif m.group("literal") is not None:
            parts.append(f" {m.group('literal')!r} ")
        else:
            parts.append({"||": " or ", "&&": " and ", "!": " not "}.get(text, text))
        pos = m.end()
    source = "".join(parts)
    code = compile(f"lambda s: bool({source})", "<cel>", "eval")
    predicate: Callable[[str], bool] = eval(code, {"R": regexes, "__builtins__": {"bool": bool}})
    return predicate


def violations(path: str, value: str) -> list[str]:
    """The messages of every rule on the schema node at `path` that `value` breaks."""
    rules: list[dict[str, Any]] = node_at(path)["x-kubernetes-validations"]
    return [r["message"] for r in rules if not cel_rule(r["rule"])(value)]


# (schedule, what the CRD does, why); "accept" must include every schedule a CronJob accepts.
SCHEDULES: list[tuple[str, bool, str]] = [
    ("0 9 * * 1-5", True, "weekdays"),
    ("*/5 * * * *", True, "every-5-minutes"),
    ("0 0 1 1 *", True, "new-year"),
    ("0 0 31 2 *", True, "never-fires-but-valid"),
    ("59 23 31 12 6", True, "upper-bounds"),
    ("0 0 1 1 0", True, "lower-bounds"),
    ("1,2,3 * * * *", True, "list"),
    ("0-59/15 0-23/6 1-31/2 1-12/3 0-6/2", True, "ranges-with-steps"),
    ("5/10 * * * *", True, "start-with-step"),
    ("? ? ? ? ?", True, "question-marks"),
    ("0 12 * JAN-mar MON-fri", True, "names-any-case"),
    ("0 12 * jan,jul sun,sat", True, "name-lists"),
    ("0 0 * * FR\u0130", True, "dotted-capital-i-lowercases-to-i-in-go"),
    ("00 09 * * *", True, "leading-zeros"),
    ("+5 * * * *", True, "plus-sign-atoi-accepts"),
    ("*-5 * * * *", True, "robfig-ignores-after-star-hyphen"),
    ("1,,2 * * * *", True, "empty-list-pieces-dropped"),
    (", * * * *", True, "only-commas-is-a-never-matching-field"),
    ("  0 9 * * *  ", True, "surrounding-spaces"),
    ("0\t9\t*\t*\t*", True, "tabs"),
    ("0\u00a09 * * *", True, "nbsp-is-go-whitespace"),
    ("*/100 * * * *", True, "step-beyond-range"),
    ("5-1 * * * *", True, "reversed-range-only-operator-rejects"),
    ("@hourly", True, "hourly"),
    ("@daily", True, "daily"),
    ("@midnight", True, "midnight"),
    ("@weekly", True, "weekly"),
    ("@monthly", True, "monthly"),
    ("@yearly", True, "yearly"),
    ("@annually", True, "annually"),
    ("@every 1h30m", True, "every"),
    ("@every 1.5h", True, "every-fraction"),
    ("@every 500ms", True, "every-ms"),
    ("@every 10\u00b5s", True, "every-micro-sign"),
    ("@every 0", True, "every-zero"),
    ("@every -1s", True, "every-negative-go-parses"),
    ("", False, "empty"),
    ("   ", False, "blank"),
    ("* * * *", False, "four-fields"),
    ("* * * * * *", False, "six-fields"),
    ("60 * * * *", False, "minute-60"),
    ("* 24 * * *", False, "hour-24"),
    ("* * 0 * *", False, "dom-0"),
    ("* * 32 * *", False, "dom-32"),
    ("* * * 0 *", False, "month-0"),
    ("* * * 13 *", False, "month-13"),
    ("* * * * 7", False, "dow-7"),
    ("*/0 * * * *", False, "step-zero"),
    ("1/2/3 * * * *", False, "two-slashes"),
    ("1-2-3 * * * *", False, "two-hyphens"),
    ("-5 * * * *", False, "negative"),
    ("*5 * * * *", False, "star-then-digit"),
    ("x * * * *", False, "letter"),
    ("mon * * * *", False, "name-in-minute-field"),
    ("* * * mon *", False, "day-name-in-month-field"),
    ("* * * * jan", False, "month-name-in-dow-field"),
    ("* * L * *", False, "quartz-L"),
    ("* * * * 1#2", False, "quartz-hash"),
    ("@hourly ", False, "macro-trailing-space"),
    (" @hourly", False, "macro-leading-space"),
    ("@HOURLY", False, "macro-uppercase"),
    ("@reboot", False, "reboot"),
    ("@every", False, "every-without-duration"),
    ("@every 1d", False, "every-days-unit"),
    ("@every 1h ", False, "every-trailing-space"),
    ("@every .", False, "every-dot"),
    ("@5 * * * *", False, "at-then-fields"),
    ("TZ=UTC 0 9 * * *", False, "tz-prefix"),
    ("CRON_TZ=Europe/Berlin 0 9 * * *", False, "cron-tz-prefix"),
    ("0 9 * * *\n", True, "trailing-newline-is-whitespace"),
    ("0  7,32 * * *", False, "double-space-does-not-hide-a-bad-field"),
    ("0\t\t24 * * *", False, "double-tab-does-not-hide-a-bad-field"),
]


@pytest.mark.parametrize(
    ("schedule", "accepted"),
    [pytest.param(s, ok, id=name) for s, ok, name in SCHEDULES],
)
def test_schedule_rules(schedule: str, accepted: bool) -> None:
    assert (violations("spec.schedule", schedule) == []) is accepted


@pytest.mark.parametrize(
    ("schedule", "message_part"),
    [
        pytest.param("TZ=UTC 0 9 * * *", "TZ=", id="tz"),
        pytest.param("@often", "starting with @", id="macro"),
        pytest.param("* * * *", "exactly five fields", id="count"),
        pytest.param("60 * * * *", "minute field", id="minute"),
        pytest.param("* 24 * * *", "hour field", id="hour"),
        pytest.param("* * 0 * *", "day-of-month field", id="dom"),
        pytest.param("* * * 13 *", "month field", id="month"),
        pytest.param("* * * * 7", "day-of-week field", id="dow"),
    ],
)
def test_a_bad_schedule_gets_exactly_one_message_naming_the_problem(
    schedule: str, message_part: str
) -> None:
    messages = violations("spec.schedule", schedule)
    assert len(messages) == 1
    assert message_part in messages[0]


# Valid pieces of each field, in robfig's grammar (plus signs, leading zeros, names any case).
_FIELD_VALUES = [
    ["0", "59", "+7", "007"],
    ["0", "23", "+1", "09"],
    ["1", "31", "+2", "015"],
    ["1", "12", "jan", "DEC", "Jul"],
    ["0", "6", "sun", "SAT", "Wed"],
]
_FIELD_NAMES = ["minute", "hour", "day-of-month", "month", "day-of-week"]
_OUT_OF_RANGE = ["60", "24", "32", "13", "7"]
_SEPARATORS = st.text(alphabet=" \t\u00a0\u3000", min_size=1, max_size=3)


@st.composite
def _field(draw: st.DrawFn, index: int) -> str:
    value = st.sampled_from(_FIELD_VALUES[index])
    star = st.sampled_from(["*", "?"])
    step = st.one_of(st.just(""), st.integers(1, 120).map(lambda n: f"/{n}"))
    part = st.one_of(
        st.tuples(star, step).map("".join),
        st.tuples(value, step).map("".join),
        st.tuples(value, value, step).map(lambda t: f"{t[0]}-{t[1]}{t[2]}"),
    )
    return ",".join(draw(st.lists(part, min_size=1, max_size=3)))


@st.composite
def _schedule(draw: st.DrawFn) -> list[str]:
    return [draw(_field(i)) for i in range(5)]


@given(_schedule(), _SEPARATORS, _SEPARATORS)
def test_crd_accepts_every_schedule_built_from_valid_pieces(
    fields: list[str], sep: str, edge: str
) -> None:
    # Reversed ranges (5-1) may appear: the CRD leaves them to the operator, so they pass here.
    assert violations("spec.schedule", edge + sep.join(fields) + edge) == []


@given(_schedule(), _SEPARATORS, st.integers(0, 4))
def test_an_out_of_range_value_is_rejected_naming_its_field(
    fields: list[str], sep: str, index: int
) -> None:
    fields[index] = f"{fields[index]},{_OUT_OF_RANGE[index]}"
    messages = violations("spec.schedule", sep.join(fields))
    assert len(messages) == 1
    assert f"the {_FIELD_NAMES[index]} field" in messages[0]


def _shared_cases(cases: list[tuple[str, bool]]) -> list[Any]:
    """The valid entries of a table in tests/unit/cron_cases.py (Kubernetes' own verdicts)."""
    return [pytest.param(value, id=repr(value)) for value, valid in cases if valid]


def test_the_shared_case_tables_hold_valid_and_invalid_entries() -> None:
    """Guards the two tests below: an emptied table would leave them nothing to check."""
    for cases in (SCHEDULE_CASES, TIME_ZONE_CASES):
        assert {valid for _, valid in cases} == {True, False}


@pytest.mark.parametrize("schedule", _shared_cases(SCHEDULE_CASES))
def test_crd_accepts_every_schedule_a_cronjob_accepts(schedule: str) -> None:
    assert violations("spec.schedule", schedule) == []


@pytest.mark.parametrize("zone", _shared_cases(TIME_ZONE_CASES))
def test_crd_accepts_every_time_zone_a_cronjob_accepts(zone: str) -> None:
    assert violations("spec.timeZone", zone) == []


@pytest.mark.parametrize(
    ("zone", "accepted"),
    [
        pytest.param("UTC", True, id="utc"),
        pytest.param("Europe/Berlin", True, id="berlin"),
        pytest.param("America/Argentina/Buenos_Aires", True, id="three-parts"),
        pytest.param("Etc/GMT+5", True, id="plus-sign"),
        pytest.param("Etc/GMT-14", True, id="minus-inside"),
        pytest.param("America/Port-au-Prince", True, id="hyphens"),
        pytest.param("Local", False, id="local"),
        pytest.param("LOCAL", False, id="local-upper"),
        pytest.param("", False, id="empty"),
        pytest.param("Europe//Berlin", False, id="double-slash"),
        pytest.param("/Europe/Berlin", False, id="leading-slash"),
        pytest.param("Europe/Berlin/", False, id="trailing-slash"),
        pytest.param("../etc/passwd", False, id="dot-dot"),
        pytest.param("./UTC", False, id="dot"),
        pytest.param("-UTC", False, id="leading-hyphen"),
        pytest.param("Europe/Berlin City", False, id="space"),
        pytest.param("Abcdefghijklmno", False, id="part-longer-than-14"),
        pytest.param("Europe/Zürich", False, id="non-ascii"),
    ],
)
def test_time_zone_rules(zone: str, accepted: bool) -> None:
    assert (violations("spec.timeZone", zone) == []) is accepted


@pytest.mark.parametrize(
    ("prompt", "accepted"),
    [
        pytest.param("Summarise yesterday's alerts.", True, id="sentence"),
        pytest.param("  x  ", True, id="padded"),
        pytest.param("{{ not a template }}", True, id="braces"),
        pytest.param(" \t\n", False, id="ascii-whitespace"),
        pytest.param("\u00a0\u3000\u2028", False, id="unicode-whitespace"),
        pytest.param("\v\f\r\x85", False, id="control-whitespace"),
    ],
)
def test_prompt_rules(prompt: str, accepted: bool) -> None:
    assert (violations("spec.prompt", prompt) == []) is accepted


@pytest.mark.parametrize(
    ("timeout", "accepted"),
    [
        pytest.param("15m", True, id="minutes"),
        pytest.param("1h30m", True, id="hours-minutes"),
        pytest.param("90s", True, id="seconds"),
        pytest.param("1h2m3s", True, id="all-units"),
        pytest.param("0h5m", True, id="zero-hours"),
        pytest.param("0s", False, id="zero"),
        pytest.param("0h0m", False, id="all-zero"),
        pytest.param("30m1h", False, id="wrong-order"),
        pytest.param("1m1m", False, id="repeated-unit"),
        pytest.param("1d", False, id="days"),
        pytest.param("15", False, id="no-unit"),
        pytest.param("1.5h", False, id="fraction"),
        pytest.param("15m ", False, id="trailing-space"),
    ],
)
def test_timeout_rules(timeout: str, accepted: bool) -> None:
    assert (violations("spec.timeout", timeout) == []) is accepted


def _parses(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


@given(st.text(alphabet="0123hms", min_size=2, max_size=12))
def test_timeout_rule_agrees_with_the_runner_parser(text: str) -> None:
    assert (violations("spec.timeout", text) == []) is _parses(text)


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        pytest.param("nightly-report", True, id="label"),
        pytest.param("team.agent-1", True, id="subdomain"),
        pytest.param("Nightly", False, id="uppercase"),
        pytest.param("-agent", False, id="leading-hyphen"),
        pytest.param("agent_1", False, id="underscore"),
        pytest.param("ns/agent", False, id="namespace-path"),
    ],
)
def test_target_name_rules(name: str, accepted: bool) -> None:
    assert (violations("spec.targetRef.name", name) == []) is accepted


def test_translator_refuses_cel_it_does_not_know() -> None:
    with pytest.raises(AssertionError, match="outside the tested subset"):
        cel_rule("self.size() > 3")
