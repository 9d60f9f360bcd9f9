"""Scheduling policies with the operator process on the real control plane (no runner pods):
hashed `H` schedules expanded the same by the operator, across a restart, and offline.

Pause, stop rules and the previous-run part need the CronJob controller's real ticks and runner
pods; those are tests/e2e/test_policies.py's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from generator.schedule import hashed
from tests.kube_helpers import (
    create,
    create_agent,
    get_cronjob,
    get_sr,
    scheduledrun,
    wait_condition,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

SCHEDULE = "H H(0-5) * * H/2"


def render_offline(plane: ControlPlane, obj: dict[str, object]) -> str:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("scheduledrun")), "render", "-"],
        input=yaml.safe_dump(obj),
        capture_output=True,
        text=True,
        check=True,
        env=plane.env,
    )
    rendered = yaml.safe_load(result.stdout)
    return str(rendered["spec"]["schedule"])


def test_h_is_expanded_the_same_by_operator_restart_and_offline_render(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("spread", schedule=SCHEDULE))
    expected = hashed.expand(SCHEDULE, f"{namespace}/spread")
    assert "H" not in expected

    first = OperatorProcess(control_plane).start()
    try:
        sr = wait_condition(kube, namespace, "spread", "True", "ScheduleAccepted")
        cronjob = get_cronjob(kube, namespace, "spread")
        assert cronjob is not None
        assert cronjob["spec"]["schedule"] == expected
        assert sr["status"]["effectiveSchedule"] == expected
        wide = control_plane.kubectl("get", "sr", "spread", "-n", namespace, "-o", "wide").stdout
        assert expected in wide
    finally:
        first.stop()

    # A new operator process, with the CronJob gone, makes the very same schedule again.
    deleted = kube.delete(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/spread")
    assert deleted.status_code == 200
    second = OperatorProcess(control_plane).start()
    try:
        recreated = eventually(
            "the CronJob recreated",
            lambda: get_cronjob(kube, namespace, "spread"),
        )
        assert recreated["spec"]["schedule"] == expected
        assert recreated["metadata"]["uid"] != cronjob["metadata"]["uid"]
    finally:
        second.stop()

    live = get_sr(kube, namespace, "spread")
    offline = {k: live[k] for k in ("apiVersion", "kind", "spec")}
    offline["metadata"] = {"name": "spread", "namespace": namespace}
    assert render_offline(control_plane, offline) == expected
