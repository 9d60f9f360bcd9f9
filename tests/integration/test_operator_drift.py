"""Drift of an owned CronJob, on the real control plane with the operator as its own process:
`kubectl patch` of the schedule, the suspension and the image are put back within seconds, with a
`CronJobReverted` event and a log line that say what was put back, and also when the edit was
made while the operator was down. An operator with nothing to put back writes nothing.
Not covered: fields the operator does not render (an added volume), which issue 16's "exactly the
desired spec" concerns.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from runner.history import format_run_time
from tests.kube_helpers import (
    create,
    create_agent,
    get_cronjob,
    get_sr,
    scheduledrun,
    stamp,
    wait_condition,
    write_history,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

CONTAINERS = "/spec/jobTemplate/spec/template/spec/containers/0"


def kubectl_patch(plane: ControlPlane, namespace: str, patch: list[dict[str, Any]]) -> None:
    plane.kubectl(
        "-n", namespace, "patch", "cronjob", "nightly", "--type=json", "-p", json.dumps(patch)
    )


def cronjob_fields(kube: httpx.Client, namespace: str) -> tuple[str, bool, str]:
    cronjob = get_cronjob(kube, namespace, "nightly")
    assert cronjob is not None
    spec = cronjob["spec"]
    image = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"]
    return spec["schedule"], spec["suspend"], image


def reverted_events(kube: httpx.Client, namespace: str) -> list[str]:
    events = kube.get(f"/api/v1/namespaces/{namespace}/events").json()["items"]
    return [e["message"] for e in events if e["reason"] == "CronJobReverted"]


def versions(kube: httpx.Client, namespace: str) -> tuple[str, str]:
    """The resourceVersions of the CronJob and the ScheduledRun: any write moves one."""
    cronjob = get_cronjob(kube, namespace, "nightly")
    assert cronjob is not None
    sr = get_sr(kube, namespace, "nightly")
    return cronjob["metadata"]["resourceVersion"], sr["metadata"]["resourceVersion"]


def finished_run(job_id: str) -> dict[str, Any]:
    """A run that ended now (after the operator started: it counts only those); the agent took
    it (a session), so its outcome counts as kagent counts a dispatched run's. Its times to the
    millisecond, as a runner writes them: to the second, a test that gets here within the
    second the operator started in would write an end before that start."""
    now = datetime.now(UTC)
    start = now - timedelta(seconds=1)
    return {"id": job_id, "trigger": "Scheduled", "scheduledTime": stamp(start),
            "startTime": format_run_time(start), "endTime": format_run_time(now),
            "status": "Succeeded",
            "sessionID": f"ctx-{job_id}", "message": "done"}  # fmt: skip


def outcome_count(operator: OperatorProcess, namespace: str, name: str) -> float:
    for family in text_string_to_metric_families(operator.metrics()):
        for sample in family.samples:
            labels = sample.labels
            if (sample.name, labels.get("namespace"), labels.get("name")) == (
                "kagent_scheduledrun_outcome_total",
                namespace,
                name,
            ):
                return sample.value
    return 0.0


def lines_about(process: OperatorProcess, namespace: str) -> int:
    return sum(f"{namespace}/" in line for line in process.tail(100000).splitlines())


EDITS = [
    pytest.param(
        [{"op": "replace", "path": "/spec/schedule", "value": "* * * * *"}],
        ("spec.schedule", '"* * * * *" -> "0 2 * * *"'),
        id="schedule",
    ),
    pytest.param(
        [{"op": "replace", "path": "/spec/suspend", "value": True}],
        ("spec.suspend", "true -> false"),
        id="suspend",
    ),
    pytest.param(
        [{"op": "replace", "path": f"{CONTAINERS}/image", "value": "evil.example/x:1"}],
        ("containers[0].image", '"evil.example/x:1" -> "example.com/kagent-scheduledrun:test"'),
        id="image",
    ),
]


@pytest.mark.parametrize(("patch", "said"), EDITS)
def test_an_edited_cronjob_is_put_back_with_an_event(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
    patch: list[dict[str, Any]],
    said: tuple[str, str],
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("nightly", schedule="0 2 * * *"))
    wait_condition(kube, namespace, "nightly", "True", "ScheduleAccepted")
    desired = cronjob_fields(kube, namespace)

    kubectl_patch(control_plane, namespace, patch)

    eventually("the edit put back", lambda: cronjob_fields(kube, namespace) == desired)
    [message] = eventually("a CronJobReverted event", lambda: reverted_events(kube, namespace))
    path, change = said
    assert path in message
    assert change in message
    assert "reverted edits of CronJob nightly" in operator.tail()
    # Put back once: nothing drifted since, so the operator writes nothing more here (other
    # tests' namespaces, still being deleted, may cost it writes: hence per object, not in total).
    # The witness that it looked again: a run that ends now, as a runner records it, which the
    # operator counts (a look that writes nothing) once it has reconciled after the revert.
    cronjob_version = versions(kube, namespace)[0]
    lines = lines_about(operator, namespace)
    write_history(kube, namespace, "nightly", [finished_run("nightly-1")])
    after_run = versions(kube, namespace)
    eventually(
        "the operator counts the run",
        lambda: outcome_count(operator, namespace, "nightly") == 1,
    )
    assert versions(kube, namespace) == after_run
    assert after_run[0] == cronjob_version
    assert lines_about(operator, namespace) == lines
    assert len(reverted_events(kube, namespace)) == 1


def test_an_edit_made_while_the_operator_was_down_is_put_back_on_start(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("nightly", schedule="0 2 * * *"))
    first = OperatorProcess(control_plane).start()
    try:
        wait_condition(kube, namespace, "nightly", "True", "ScheduleAccepted")
        desired = cronjob_fields(kube, namespace)
    finally:
        first.stop()
        first.log.unlink(missing_ok=True)

    kubectl_patch(
        control_plane,
        namespace,
        [
            {"op": "replace", "path": "/spec/schedule", "value": "* * * * *"},
            {"op": "replace", "path": "/spec/suspend", "value": True},
            {"op": "replace", "path": f"{CONTAINERS}/image", "value": "evil.example/x:1"},
        ],
    )
    assert cronjob_fields(kube, namespace) != desired

    second = OperatorProcess(control_plane).start()
    try:
        eventually(
            "the edits put back after the restart",
            lambda: cronjob_fields(kube, namespace) == desired,
        )
        [message] = eventually("a CronJobReverted event", lambda: reverted_events(kube, namespace))
    finally:
        second.stop()
        second.log.unlink(missing_ok=True)
    for path in ("spec.schedule", "spec.suspend", "containers[0].image"):
        assert path in message
