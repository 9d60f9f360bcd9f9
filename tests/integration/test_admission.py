"""Admission of ScheduledRuns by the real kube-apiserver with the chart's CRD.

Covers: the CRD applies and serves (`kubectl get sr`, `kubectl explain`), defaults are filled in,
and a corpus of bad ScheduledRuns is each refused by `kubectl apply` with a message a person can
act on. Not covered here: checks only the operator can make (an IANA zone that does not exist, a
target that is missing); those surface in the Accepted condition.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from devcluster.cluster import ControlPlane
from runner import api

pytestmark = pytest.mark.cluster

DELETE = object()  # marks a field to remove from the valid base object


def scheduled_run(name: str = "nightly", **spec_changes: Any) -> dict[str, Any]:
    """A valid ScheduledRun, with spec fields replaced (or removed with DELETE)."""
    spec: dict[str, Any] = {
        "schedule": "0 9 * * 1-5",
        "targetRef": {"kind": "Agent", "name": "reporter"},
        "prompt": "Summarise yesterday's incidents.",
    }
    for key, value in spec_changes.items():
        if value is DELETE:
            spec.pop(key, None)
        else:
            spec[key] = value
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": name},
        "spec": spec,
    }


def apply(control_plane: ControlPlane, namespace: str, obj: dict[str, Any]) -> tuple[int, str]:
    result = control_plane.kubectl(
        "apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj), check=False
    )
    return result.returncode, result.stdout + result.stderr


def test_get_sr_and_explain_are_served(control_plane: ControlPlane, namespace: str) -> None:
    code, output = apply(control_plane, namespace, scheduled_run())
    assert code == 0, output
    table = control_plane.kubectl("get", "sr", "-n", namespace).stdout
    header, row = table.splitlines()[:2]
    assert header.split()[:4] == ["NAME", "SCHEDULE", "ACCEPTED", "REASON"]
    assert row.split()[0] == "nightly"
    assert "0 9 * * 1-5" in row
    explained = control_plane.kubectl("explain", "scheduledrun.spec").stdout
    for field in ("schedule", "timeZone", "targetRef", "prompt", "maxRunHistory"):
        assert f"  {field}\t" in explained or f"  {field} " in explained, explained


def test_kagent_category_lists_scheduledruns(control_plane: ControlPlane, namespace: str) -> None:
    assert apply(control_plane, namespace, scheduled_run())[0] == 0
    names = control_plane.kubectl("get", "kagent", "-n", namespace, "-o", "name").stdout.split()
    assert f"scheduledrun.{api.GROUP}/nightly" in names


def test_defaults_are_filled_in_by_the_api_server(
    control_plane: ControlPlane, namespace: str
) -> None:
    assert apply(control_plane, namespace, scheduled_run())[0] == 0
    stored = yaml.safe_load(
        control_plane.kubectl("get", "sr", "nightly", "-n", namespace, "-o", "yaml").stdout
    )
    spec = stored["spec"]
    assert (
        spec["timeZone"],
        spec["concurrencyPolicy"],
        spec["suspend"],
        spec["timeout"],
        spec["maxRunHistory"],
        spec["targetRef"]["apiGroup"],
    ) == ("UTC", "Forbid", False, "15m", 10, "kagent.dev")


BAD_SCHEDULED_RUNS = [
    pytest.param(
        {"schedule": "0 9 * *"},
        ["spec.schedule", "exactly five fields"],
        id="schedule-four-fields",
    ),
    pytest.param(
        {"schedule": "61 * * * *"},
        ["spec.schedule", "minute field"],
        id="schedule-minute-61",
    ),
    pytest.param(
        {"schedule": "0 24 * * *"}, ["spec.schedule", "hour field"], id="schedule-hour-24"
    ),
    pytest.param(
        {"schedule": "0 0 0 * *"}, ["spec.schedule", "day-of-month field"], id="schedule-day-0"
    ),
    pytest.param(
        {"schedule": "0 0 1 13 *"}, ["spec.schedule", "month field"], id="schedule-month-13"
    ),
    pytest.param(
        {"schedule": "0 0 * * 7"}, ["spec.schedule", "day-of-week field"], id="schedule-weekday-7"
    ),
    pytest.param(
        {"schedule": "@weekdays"}, ["spec.schedule", "@every"], id="schedule-unknown-macro"
    ),
    pytest.param(
        {"schedule": "TZ=Europe/Berlin 0 9 * * *"},
        ["spec.schedule", "set spec.timeZone instead"],
        id="schedule-with-tz",
    ),
    pytest.param({"schedule": ""}, ["spec.schedule", "at least 1 chars"], id="schedule-empty"),
    pytest.param({"schedule": DELETE}, ["spec.schedule", "Required value"], id="schedule-missing"),
    pytest.param({"timeZone": "Local"}, ["spec.timeZone", '"Local" is not allowed'], id="tz-local"),
    pytest.param(
        {"timeZone": "../etc/passwd"},
        ["spec.timeZone", "IANA time zone name"],
        id="tz-path-traversal",
    ),
    pytest.param(
        {"timeZone": "Europe/Berlin Time"},
        ["spec.timeZone", "IANA time zone name"],
        id="tz-with-space",
    ),
    pytest.param(
        {"targetRef": {"kind": "Agent", "name": "reporter", "namespace": "other-team"}},
        ["spec.targetRef.namespace", "own namespace", 'namespace "other-team"'],
        id="target-other-namespace",
    ),
    pytest.param(
        {"targetRef": {"kind": "Deployment", "name": "reporter"}},
        ["spec.targetRef.kind", "Unsupported value", '"Agent"', '"SandboxAgent"'],
        id="target-wrong-kind",
    ),
    pytest.param(
        {"targetRef": {"apiGroup": "apps", "kind": "Agent", "name": "reporter"}},
        ["spec.targetRef.apiGroup", "Unsupported value", '"kagent.dev"'],
        id="target-wrong-group",
    ),
    pytest.param(
        {"targetRef": {"kind": "Agent", "name": "Reporter_1"}},
        ["spec.targetRef.name", "Kubernetes object name"],
        id="target-bad-name",
    ),
    pytest.param(
        {"targetRef": {"kind": "Agent"}},
        ["spec.targetRef.name", "Required value"],
        id="target-no-name",
    ),
    pytest.param({"prompt": ""}, ["spec.prompt", "at least 1 chars"], id="prompt-empty"),
    pytest.param(
        {"prompt": " \n\t  "},
        ["spec.prompt", "must not be empty or only whitespace"],
        id="prompt-whitespace",
    ),
    pytest.param({"prompt": "x" * 32769}, ["spec.prompt", "32768"], id="prompt-too-long"),
    pytest.param(
        {"maxRunHistory": 0},
        ["spec.maxRunHistory", "greater than or equal to 1"],
        id="history-0",
    ),
    pytest.param(
        {"maxRunHistory": 101},
        ["spec.maxRunHistory", "less than or equal to 100"],
        id="history-101",
    ),
    pytest.param(
        {"startingDeadlineSeconds": -5},
        ["spec.startingDeadlineSeconds", "greater than or equal to 10"],
        id="deadline-negative",
    ),
    pytest.param(
        {"concurrencyPolicy": "Queue"},
        ["spec.concurrencyPolicy", "Unsupported value", '"Forbid"'],
        id="concurrency-unknown",
    ),
    pytest.param({"timeout": "0m"}, ["spec.timeout", "longer than zero"], id="timeout-zero"),
    pytest.param({"timeout": "15 minutes"}, ["spec.timeout", "duration"], id="timeout-words"),
    pytest.param({"suspend": "yes"}, ["spec.suspend", "boolean"], id="suspend-not-bool"),
    pytest.param(
        {"pauseAfterFailures": 0},
        ["spec.pauseAfterFailures", "greater than or equal to 1"],
        id="pause-0",
    ),
    pytest.param(
        {"pauseAfterFailures": 11},
        ["spec.pauseAfterFailures", "must not be more than maxRunHistory"],
        id="pause-over-history",
    ),
    pytest.param(
        {"pauseAfterFailures": 30, "maxRunHistory": 20},
        ["spec.pauseAfterFailures", "must not be more than maxRunHistory"],
        id="pause-over-given-history",
    ),
    pytest.param({"endTime": "tomorrow"}, ["spec.endTime", "date-time"], id="end-time-words"),
    pytest.param({"maxRuns": 0}, ["spec.maxRuns", "greater than or equal to 1"], id="max-runs-0"),
    pytest.param(
        {"includePreviousRun": "yes"}, ["spec.includePreviousRun", "boolean"], id="previous-str"
    ),
    pytest.param(
        {"schedule": "H(0-60) * * * *"},
        ["spec.schedule", "minute field", "hashed H, H(a-b), H/n or H(a-b)/n"],
        id="hashed-minute-60",
    ),
    pytest.param(
        {"schedule": "0 0 * * H(1-7)"},
        ["spec.schedule", "day-of-week field"],
        id="hashed-weekday-7",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), BAD_SCHEDULED_RUNS)
def test_bad_scheduledrun_is_rejected_with_a_clear_message(
    control_plane: ControlPlane, namespace: str, changes: dict[str, Any], expected: list[str]
) -> None:
    obj = scheduled_run(**changes)
    code, output = apply(control_plane, namespace, obj)
    assert code != 0, f"accepted: {obj['spec']}\n{output}"
    for fragment in expected:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    assert control_plane.kubectl("get", "sr", "-n", namespace, "-o", "name").stdout == ""


@pytest.mark.parametrize(
    "schedule", ["H 2 * * *", "H(0-29)/10 H(+1-05) H H(1-6) H/2", "H,30 * * * *"]
)
def test_hashed_schedules_are_admitted(
    control_plane: ControlPlane, namespace: str, schedule: str
) -> None:
    code, output = apply(control_plane, namespace, scheduled_run(schedule=schedule))
    assert code == 0, output


def test_policy_fields_are_admitted_and_explained(
    control_plane: ControlPlane, namespace: str
) -> None:
    obj = scheduled_run(
        pauseAfterFailures=20,
        maxRunHistory=20,
        endTime="2030-01-01T00:00:00Z",
        maxRuns=5,
        includePreviousRun=True,
    )
    code, output = apply(control_plane, namespace, obj)
    assert code == 0, output
    spec = control_plane.kubectl("explain", "scheduledrun.spec").stdout
    for field in ("pauseAfterFailures", "endTime", "maxRuns", "includePreviousRun"):
        assert f"  {field}\t" in spec or f"  {field} " in spec, spec
    status = control_plane.kubectl("explain", "scheduledrun.status").stdout
    for field in ("effectiveSchedule", "scheduledRuns", "resumedAt"):
        assert f"  {field}\t" in status or f"  {field} " in status, status
    pause = control_plane.kubectl("explain", "scheduledrun.spec.pauseAfterFailures").stdout
    assert "scheduledrun resume" in pause
