"""`spec.promptVariables` (runner/variables.py, its check in generator/spec/validate.py and its
use in runner/run.py): each variable's value, times in the ScheduledRun's zone across daylight
saving changes, the escape, unknown variables refused by the operator's verdict and by the
runner without sending, and a real a2a-sdk agent receiving the filled prompt. On the real node:
tests/e2e/test_delivery.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.agents import AgentServer, running
from generator.spec.validate import validate_spec
from runner import variables
from tests.unit.test_runner_run import JOB, FakeApiServer, job, run, scheduledrun


def entry(id_: str, due: str, status: str, trigger: str = "Scheduled") -> dict[str, Any]:
    found: dict[str, Any] = {"id": id_, "trigger": trigger, "startTime": due, "status": status}
    if trigger == "Scheduled":
        found["scheduledTime"] = due
    return found


@pytest.mark.parametrize(
    ("zone", "due", "scheduled_time", "scheduled_date"),
    [
        pytest.param("UTC", "2026-03-01T12:00:00Z", "2026-03-01T12:00:00+00:00", "2026-03-01",
                     id="utc"),
        # Europe/Berlin springs forward on 2026-03-29 at 02:00 CET (01:00 UTC) to 03:00 CEST.
        pytest.param("Europe/Berlin", "2026-03-29T00:59:59Z", "2026-03-29T01:59:59+01:00",
                     "2026-03-29", id="berlin-last-second-of-winter-time"),
        pytest.param("Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00",
                     "2026-03-29", id="berlin-first-second-of-summer-time"),
        # It falls back on 2026-10-25 at 03:00 CEST (01:00 UTC): 02:30 happens twice.
        pytest.param("Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T02:30:00+02:00",
                     "2026-10-25", id="berlin-0230-first-time"),
        pytest.param("Europe/Berlin", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00+01:00",
                     "2026-10-25", id="berlin-0230-second-time"),
        # New York: 01:30 UTC on 8 March is still the 7th there, and after the 07:00 UTC change
        # the offset is -04:00.
        pytest.param("America/New_York", "2026-03-08T01:30:00Z", "2026-03-07T20:30:00-05:00",
                     "2026-03-07", id="new-york-date-is-the-day-before"),
        pytest.param("America/New_York", "2026-03-08T07:00:00Z", "2026-03-08T03:00:00-04:00",
                     "2026-03-08", id="new-york-after-spring-forward"),
        # Lord Howe moves by half an hour: +11:00 in summer, +10:30 from 2026-04-05.
        pytest.param("Australia/Lord_Howe", "2026-04-04T15:00:00Z", "2026-04-05T01:30:00+10:30",
                     "2026-04-05", id="lord-howe-half-hour-shift"),
    ],
)  # fmt: skip
def test_scheduled_time_and_date_in_the_zone(
    zone: str, due: str, scheduled_time: str, scheduled_date: str
) -> None:
    own = entry(JOB, due, "Pending")
    values = variables.values("team", "nightly", {"timeZone": zone}, [], own, 7)
    assert (values["scheduledTime"], values["scheduledDate"]) == (scheduled_time, scheduled_date)
    assert values["timeZone"] == zone


def test_every_variable_for_a_run_after_a_failure() -> None:
    own = entry(JOB, "2026-03-29T01:00:00Z", "Pending")
    runs = [
        entry("n-3", "2026-03-28T01:00:00Z", "Failed"),
        entry("n-2", "2026-03-27T01:00:00Z", "Succeeded"),
        entry("later", "2026-03-30T01:00:00Z", "Succeeded"),  # newer than own: never previous
    ]
    values = variables.values("team", "nightly", {"timeZone": "Europe/Berlin"}, runs, own, 12)
    assert values == {
        "scheduledTime": "2026-03-29T03:00:00+02:00",
        "scheduledDate": "2026-03-29",
        "timeZone": "Europe/Berlin",
        "runNumber": "12",
        "trigger": "Scheduled",
        "namespace": "team",
        "name": "nightly",
        "previousStatus": "Failed",
        "previousTime": "2026-03-28T02:00:00+01:00",
        "lastSuccessTime": "2026-03-27T02:00:00+01:00",
    }


def test_first_run_says_none_and_a_manual_run_uses_its_start() -> None:
    own = entry("now-1", "2026-03-01T12:34:56Z", "Pending", trigger="Manual")
    values = variables.values("team", "nightly", {}, [], own, 0)
    assert values["scheduledTime"] == "2026-03-01T12:34:56+00:00"
    assert values["trigger"] == "Manual"
    assert (values["previousStatus"], values["previousTime"], values["lastSuccessTime"]) == (
        "none",
        "none",
        "none",
    )


VALUES = {name: f"<{name}>" for name in variables.VARIABLES}


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        pytest.param("Events of {{scheduledDate}}", "Events of <scheduledDate>", id="plain"),
        pytest.param("{{ name }}/{{\tnamespace }}", "<name>/<namespace>", id="spaces-inside"),
        pytest.param("literal \\{{name}} and {{name}}", "literal {{name}} and <name>",
                     id="escaped"),
        pytest.param("json {\"a\": {}} }} {", "json {\"a\": {}} }} {", id="single-braces-kept"),
        pytest.param("no variables at all", "no variables at all", id="none"),
    ],
)  # fmt: skip
def test_render(prompt: str, expected: str) -> None:
    assert variables.render(prompt, VALUES) == expected


@pytest.mark.parametrize(
    ("prompt", "said"),
    [
        pytest.param("{{ all }} of them", "unknown variable {{all}}", id="unknown"),
        pytest.param("{{scheduledTime | date}}", "opens no variable", id="expression"),
        pytest.param("{{ 'x' }}", "opens no variable", id="literal"),
        pytest.param("unclosed {{name", "opens no variable", id="unclosed"),
    ],
)  # fmt: skip
def test_unknown_or_malformed_is_an_admission_problem(prompt: str, said: str) -> None:
    spec = {"schedule": "@daily", "targetRef": {"kind": "Agent", "name": "a"}, "prompt": prompt}
    assert validate_spec(spec) == []  # off by default: the prompt is sent as written
    (problem,) = validate_spec({**spec, "promptVariables": True})
    assert (problem.reason, problem.field) == ("InvalidSpec", "spec.prompt")
    assert said in problem.message
    assert "known variables: scheduledTime, scheduledDate" in problem.message
    with pytest.raises(ValueError, match="known variables"):
        variables.render(prompt, VALUES)


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


def test_the_agent_receives_the_filled_prompt(agents: AgentServer) -> None:
    prompt = "Report for {{scheduledDate}} ({{ scheduledTime }}, run {{runNumber}}); not \\{{name}}"
    sr = scheduledrun("echo-variables", prompt=prompt, promptVariables=True, timeZone="Asia/Tokyo")
    sr["status"] = {"scheduledRuns": 4, "runHistory": [entry("n-1", "2026-02-28T12:00Z", "Failed")]}
    code, _ = run(FakeApiServer(sr, job()), agents.base_url, "1.0")
    assert code == 0
    (received,) = agents.received_by("echo-variables")
    # The Job's tick is 2026-03-01T12:00:00Z: 21:00 in Tokyo; the runner counted it as run 5.
    sent = "Report for 2026-03-01 (2026-03-01T21:00:00+09:00, run 5); not {{name}}"
    assert received.parts == (sent,)


def test_an_unknown_variable_is_never_sent(agents: AgentServer) -> None:
    sr = scheduledrun("echo-unknown-variable", prompt="{{ all }}", promptVariables=True)
    fake = FakeApiServer(sr, job())
    code, _ = run(fake, agents.base_url, "1.0")
    assert agents.received_by("echo-unknown-variable") == []
    assert fake.entry()["status"] == "DispatchFailed"
    assert "unknown variable {{all}}" in fake.entry()["message"]
    assert code != 0
