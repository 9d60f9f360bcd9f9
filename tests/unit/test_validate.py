"""generator.spec.validate: each rule of the ScheduledRun API, its Accepted reason, field and
message.

Each case changes one thing in a valid object and names the single problem that must come back;
one case breaks many things at once and expects every problem, not just the first. Cron and zone
details are covered by test_cron; here only how they surface as problems.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from generator.spec.validate import Problem, validate_scheduledrun
from runner.conditions import Reason


def valid_object() -> dict[str, Any]:
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "ScheduledRun",
        "metadata": {"name": "nightly-report", "namespace": "team-a"},
        "spec": {
            "schedule": "0 2 * * *",
            "timeZone": "Europe/Berlin",
            "targetRef": {"apiGroup": "kagent.dev", "kind": "Agent", "name": "k8s-agent"},
            "prompt": "Summarise yesterday's alerts.",
            "suspend": False,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            "timeout": "15m",
            "maxRunHistory": 10,
        },
    }


Change = Callable[[dict[str, Any]], None]


def set_path(path: str, value: Any) -> Change:
    def change(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = obj
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def drop_path(path: str) -> Change:
    def change(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = obj
        for key in parents:
            target = target[key]
        del target[last]

    return change


def keep_spec_only(*keys: str) -> Change:
    def change(obj: dict[str, Any]) -> None:
        obj["spec"] = {k: v for k, v in obj["spec"].items() if k in keys}

    return change


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda obj: None, id="as-written"),
        pytest.param(drop_path("spec.timeZone"), id="no-time-zone-means-utc"),
        pytest.param(drop_path("spec.targetRef.apiGroup"), id="api-group-defaults"),
        pytest.param(set_path("spec.targetRef.kind", "SandboxAgent"), id="sandbox-agent"),
        pytest.param(keep_spec_only("schedule", "targetRef", "prompt"), id="only-required-fields"),
        pytest.param(set_path("spec.schedule", "@every 1h30m"), id="every"),
        pytest.param(set_path("spec.prompt", "x" * 32768), id="prompt-at-max"),
        pytest.param(set_path("spec.startingDeadlineSeconds", 10), id="deadline-at-min"),
        pytest.param(set_path("spec.maxRunHistory", 100), id="history-at-max"),
        pytest.param(set_path("spec.maxRunHistory", 1), id="history-at-min"),
        pytest.param(set_path("metadata.name", "a.b-c"), id="name-subdomain"),
        pytest.param(set_path("metadata.name", "a" * 253), id="name-253"),
        pytest.param(set_path("spec.timeout", "1h30m"), id="timeout-hm"),
        pytest.param(set_path("spec.concurrencyPolicy", "Replace"), id="replace"),
    ],
)
def test_valid(change: Change) -> None:
    obj = valid_object()
    change(obj)
    assert validate_scheduledrun(obj) == []


@pytest.mark.parametrize(
    ("change", "reason", "field", "message"),
    [
        pytest.param(
            set_path("apiVersion", "kagent.dev/v1alpha1"),
            "InvalidSpec",
            "apiVersion",
            "must be kagent.dev/v1alpha2",
            id="api-version",
        ),
        pytest.param(
            set_path("kind", "CronJob"), "InvalidSpec", "kind", "must be ScheduledRun", id="kind"
        ),
        pytest.param(
            drop_path("metadata.name"),
            "InvalidSpec",
            "metadata.name",
            "required",
            id="name-missing",
        ),
        pytest.param(
            set_path("metadata.name", "Nightly"),
            "InvalidSpec",
            "metadata.name",
            "'Nightly' is not a valid name",
            id="name-upper-case",
        ),
        pytest.param(
            set_path("metadata.name", "a" * 254),
            "InvalidSpec",
            "metadata.name",
            "at most 253",
            id="name-too-long",
        ),
        pytest.param(
            set_path("metadata.name", "-a"),
            "InvalidSpec",
            "metadata.name",
            "starting and ending",
            id="name-leading-dash",
        ),
        pytest.param(
            drop_path("spec.schedule"),
            "InvalidSchedule",
            "spec.schedule",
            "required",
            id="schedule-missing",
        ),
        pytest.param(
            set_path("spec.schedule", "0 0 * * 7"),
            "InvalidSchedule",
            "spec.schedule",
            "day-of-week field: 7 is out of range 0-6 (use 0 for Sunday)",
            id="schedule-dow-7",
        ),
        pytest.param(
            set_path("spec.schedule", "60 * * * *"),
            "InvalidSchedule",
            "spec.schedule",
            "minute field: 60 is above the maximum 59",
            id="schedule-minute-60",
        ),
        pytest.param(
            set_path("spec.schedule", "TZ=UTC 0 0 * * *"),
            "InvalidSchedule",
            "spec.schedule",
            "TZ or CRON_TZ",
            id="schedule-tz",
        ),
        pytest.param(
            set_path("spec.schedule", 5),
            "InvalidSchedule",
            "spec.schedule",
            "must be a string",
            id="schedule-number",
        ),
        pytest.param(
            set_path("spec.schedule", "* " * 129),
            "InvalidSchedule",
            "spec.schedule",
            "at most 256",
            id="schedule-too-long",
        ),
        pytest.param(
            set_path("spec.timeZone", "Local"),
            "InvalidTimeZone",
            "spec.timeZone",
            "'Local' is not allowed",
            id="zone-local",
        ),
        pytest.param(
            set_path("spec.timeZone", "europe/berlin"),
            "InvalidTimeZone",
            "spec.timeZone",
            "unknown time zone",
            id="zone-lower-case",
        ),
        pytest.param(
            set_path("spec.timeZone", ""),
            "InvalidTimeZone",
            "spec.timeZone",
            "time zone is empty",
            id="zone-empty",
        ),
        pytest.param(
            drop_path("spec.targetRef"),
            "InvalidTargetRef",
            "spec.targetRef",
            "required",
            id="target-missing",
        ),
        pytest.param(
            set_path("spec.targetRef", "k8s-agent"),
            "InvalidTargetRef",
            "spec.targetRef",
            "must be an object",
            id="target-string",
        ),
        pytest.param(
            set_path("spec.targetRef.kind", "Deployment"),
            "InvalidTargetRef",
            "spec.targetRef.kind",
            "'Deployment' is not supported: use Agent or SandboxAgent",
            id="target-kind",
        ),
        pytest.param(
            drop_path("spec.targetRef.kind"),
            "InvalidTargetRef",
            "spec.targetRef.kind",
            "required",
            id="target-kind-missing",
        ),
        pytest.param(
            set_path("spec.targetRef.apiGroup", "apps"),
            "InvalidTargetRef",
            "spec.targetRef.apiGroup",
            "must be kagent.dev",
            id="target-group",
        ),
        pytest.param(
            drop_path("spec.targetRef.name"),
            "InvalidTargetRef",
            "spec.targetRef.name",
            "required",
            id="target-name-missing",
        ),
        pytest.param(
            set_path("spec.targetRef.name", "My_Agent"),
            "InvalidTargetRef",
            "spec.targetRef.name",
            "not a valid object name",
            id="target-name-bad",
        ),
        pytest.param(
            set_path("spec.targetRef.namespace", "other"),
            "InvalidTargetRef",
            "spec.targetRef.namespace",
            "own namespace",
            id="target-namespace",
        ),
        pytest.param(
            drop_path("spec.prompt"), "InvalidSpec", "spec.prompt", "required", id="prompt-missing"
        ),
        pytest.param(
            set_path("spec.prompt", ""),
            "InvalidSpec",
            "spec.prompt",
            "besides whitespace",
            id="prompt-empty",
        ),
        pytest.param(
            set_path("spec.prompt", " \n\t\u00a0\u3000"),
            "InvalidSpec",
            "spec.prompt",
            "besides whitespace",
            id="prompt-whitespace",
        ),
        pytest.param(
            set_path("spec.prompt", "x" * 32769),
            "InvalidSpec",
            "spec.prompt",
            "at most 32768",
            id="prompt-too-long",
        ),
        pytest.param(
            set_path("spec.prompt", ["a"]),
            "InvalidSpec",
            "spec.prompt",
            "must be a string",
            id="prompt-list",
        ),
        pytest.param(
            set_path("spec.suspend", "yes"),
            "InvalidSpec",
            "spec.suspend",
            "true or false",
            id="suspend-string",
        ),
        pytest.param(
            set_path("spec.concurrencyPolicy", "forbid"),
            "InvalidSpec",
            "spec.concurrencyPolicy",
            "one of Allow, Forbid, Replace",
            id="policy-case",
        ),
        pytest.param(
            set_path("spec.startingDeadlineSeconds", 9),
            "InvalidSpec",
            "spec.startingDeadlineSeconds",
            "at least 10",
            id="deadline-low",
        ),
        pytest.param(
            set_path("spec.startingDeadlineSeconds", True),
            "InvalidSpec",
            "spec.startingDeadlineSeconds",
            "whole number",
            id="deadline-bool",
        ),
        pytest.param(
            set_path("spec.timeout", "15 minutes"),
            "InvalidSpec",
            "spec.timeout",
            "must look like 15m",
            id="timeout-words",
        ),
        pytest.param(
            set_path("spec.timeout", "0s"),
            "InvalidSpec",
            "spec.timeout",
            "longer than zero",
            id="timeout-zero",
        ),
        pytest.param(
            set_path("spec.timeout", 900),
            "InvalidSpec",
            "spec.timeout",
            "duration string",
            id="timeout-number",
        ),
        pytest.param(
            set_path("spec.maxRunHistory", 0),
            "InvalidSpec",
            "spec.maxRunHistory",
            "from 1 to 100",
            id="history-zero",
        ),
        pytest.param(
            set_path("spec.maxRunHistory", 101),
            "InvalidSpec",
            "spec.maxRunHistory",
            "from 1 to 100",
            id="history-101",
        ),
        pytest.param(
            set_path("spec.timezone", "UTC"),
            "InvalidSpec",
            "spec.timezone",
            "unknown field 'timezone'",
            id="unknown-field-typo",
        ),
        pytest.param(set_path("spec", None), "InvalidSpec", "spec", "required", id="spec-missing"),
    ],
)
def test_single_problem(change: Change, reason: str, field: str, message: str) -> None:
    obj = valid_object()
    change(obj)
    problems = validate_scheduledrun(obj)
    assert [(p.reason, p.field) for p in problems] == [(reason, field)]
    assert message in problems[0].message


def test_every_problem_is_reported_not_just_the_first() -> None:
    obj = valid_object()
    obj["kind"] = "Thing"
    obj["spec"].update(schedule="0 0 * * 7", timeZone="Local", prompt="   ", maxRunHistory=0)
    obj["spec"]["targetRef"] = {"kind": "Pod", "name": "x", "namespace": "y"}
    fields = {(p.reason, p.field) for p in validate_scheduledrun(obj)}
    assert fields == {
        ("InvalidSpec", "kind"),
        ("InvalidSchedule", "spec.schedule"),
        ("InvalidTimeZone", "spec.timeZone"),
        ("InvalidTargetRef", "spec.targetRef.namespace"),
        ("InvalidTargetRef", "spec.targetRef.kind"),
        ("InvalidSpec", "spec.prompt"),
        ("InvalidSpec", "spec.maxRunHistory"),
    }


def test_does_not_change_its_input() -> None:
    obj = valid_object()
    obj["spec"]["schedule"] = "bad"
    before = copy.deepcopy(obj)
    validate_scheduledrun(obj)
    assert obj == before


@pytest.mark.parametrize(
    "obj",
    [pytest.param([], id="list"), pytest.param("text", id="string"), pytest.param(None, id="none")],
)
def test_not_an_object(obj: Any) -> None:
    assert validate_scheduledrun(obj) == [
        Problem(Reason("InvalidSpec"), "", "a ScheduledRun must be a mapping (an object)")
    ]
