"""Drift of an owned CronJob, on the real control plane with the operator as its own process:
`kubectl patch` of the schedule, the suspension and the image are put back within seconds, with a
`CronJobReverted` event and a log line that say what was put back, and also when the edit was
made while the operator was down. An operator with nothing to put back writes nothing.
Not covered: fields the operator does not render (an added volume), which issue 16's "exactly the
desired spec" concerns.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from devcluster.cluster import ControlPlane
from devcluster.operator import OperatorProcess
from tests.kube_helpers import (
    create,
    create_agent,
    eventually,
    get_cronjob,
    get_sr,
    scheduledrun,
    wait_condition,
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
    wait_condition(control_plane, kube, namespace, "nightly", "True", "ScheduleAccepted")
    desired = cronjob_fields(kube, namespace)

    kubectl_patch(control_plane, namespace, patch)

    eventually(
        control_plane, "the edit put back", lambda: cronjob_fields(kube, namespace) == desired
    )
    [message] = eventually(
        control_plane, "a CronJobReverted event", lambda: reverted_events(kube, namespace)
    )
    path, change = said
    assert path in message
    assert change in message
    assert "reverted edits of CronJob nightly" in operator.tail()
    # Put back once: nothing drifted since, so the operator writes nothing more here (other
    # tests' namespaces, still being deleted, may cost it writes: hence per object, not in total).
    before = (versions(kube, namespace), lines_about(operator, namespace))
    time.sleep(5)
    assert (versions(kube, namespace), lines_about(operator, namespace)) == before
    assert len(reverted_events(kube, namespace)) == 1


def test_an_edit_made_while_the_operator_was_down_is_put_back_on_start(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("nightly", schedule="0 2 * * *"))
    first = OperatorProcess(control_plane).start()
    try:
        wait_condition(control_plane, kube, namespace, "nightly", "True", "ScheduleAccepted")
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
            control_plane,
            "the edits put back after the restart",
            lambda: cronjob_fields(kube, namespace) == desired,
        )
        [message] = eventually(
            control_plane, "a CronJobReverted event", lambda: reverted_events(kube, namespace)
        )
    finally:
        second.stop()
        second.log.unlink(missing_ok=True)
    for path in ("spec.schedule", "spec.suspend", "containers[0].image"):
        assert path in message
