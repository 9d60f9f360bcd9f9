"""The project's schedule and time-zone verdicts against the real kube-apiserver's.

For every case in tests/unit/cron_cases.py, a CronJob carrying that schedule or time zone is
created with a server-side dry run; the apiserver's accept/reject must equal the project's
(`generator.spec.validate`) and the table's own expectation. The chart CRD's admission must never
refuse what a CronJob accepts (it may let through what only the operator can judge).
Not covered: when a schedule fires (the robfig/cron differential in tests/crondiff does that).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devcluster.cluster import ControlPlane
from generator.spec.validate import validate_scheduledrun
from runner import api
from tests.unit.cron_cases import SCHEDULE_CASES, TIME_ZONE_CASES

pytestmark = pytest.mark.cluster

PLAIN_SCHEDULE = "0 * * * *"
PLAIN_ZONE = "UTC"


def cronjob(schedule: str, time_zone: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "schedule": schedule,
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                    }
                }
            }
        },
    }
    if time_zone is not None:
        spec["timeZone"] = time_zone
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "diff"}, "spec": spec}


def scheduled_run(schedule: str, time_zone: str) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": "diff"},
        "spec": {
            "schedule": schedule,
            "timeZone": time_zone,
            "targetRef": {"apiGroup": api.GROUP, "kind": "Agent", "name": "reporter"},
            "prompt": "hello",
        },
    }


def server_accepts(client: httpx.Client, path: str, obj: dict[str, Any]) -> bool:
    """Create obj with dryRun=All: True when admitted, False when refused as invalid.

    A few schedules (such as "TZ=UTC") make robfig/cron v3.0.1 panic inside the apiserver; the
    apiserver recovers and drops the connection. The object is not created: that is a refusal.
    """
    try:
        response = client.post(
            path, params={"dryRun": "All", "fieldValidation": "Strict"}, json=obj
        )
    except httpx.RemoteProtocolError:
        return False
    if response.status_code in (200, 201):
        return True
    if response.status_code in (400, 422):
        return False
    raise AssertionError(f"unexpected {response.status_code} from {path}: {response.text[:500]}")


def project_accepts(schedule: str, time_zone: str, reason: str) -> bool:
    problems = validate_scheduledrun(scheduled_run(schedule, time_zone))
    return not [problem for problem in problems if problem.reason == reason]


def cronjob_path(namespace: str) -> str:
    return f"/apis/batch/v1/namespaces/{namespace}/cronjobs"


def scheduledrun_path(namespace: str) -> str:
    return f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{api.PLURAL}"


def test_schedule_verdicts_equal_the_apiserver(control_plane: ControlPlane, namespace: str) -> None:
    mismatches = []
    with control_plane.client() as client:
        for schedule, valid in SCHEDULE_CASES:
            kube = server_accepts(client, cronjob_path(namespace), cronjob(schedule, None))
            ours = project_accepts(schedule, PLAIN_ZONE, "InvalidSchedule")
            if not kube == ours == valid:
                mismatches.append(f"{schedule!r}: apiserver={kube} project={ours} table={valid}")
    assert not mismatches, "\n".join(mismatches)


def test_time_zone_verdicts_equal_the_apiserver(
    control_plane: ControlPlane, namespace: str
) -> None:
    mismatches = []
    with control_plane.client() as client:
        for zone, valid in TIME_ZONE_CASES:
            kube = server_accepts(client, cronjob_path(namespace), cronjob(PLAIN_SCHEDULE, zone))
            ours = project_accepts(PLAIN_SCHEDULE, zone, "InvalidTimeZone")
            if not kube == ours == valid:
                mismatches.append(f"{zone!r}: apiserver={kube} project={ours} table={valid}")
    assert not mismatches, "\n".join(mismatches)


def test_crd_admits_every_schedule_and_zone_a_cronjob_accepts(
    control_plane: ControlPlane, namespace: str
) -> None:
    refused = []
    cases = [(schedule, PLAIN_ZONE) for schedule, _ in SCHEDULE_CASES]
    cases += [(PLAIN_SCHEDULE, zone) for zone, _ in TIME_ZONE_CASES]
    with control_plane.client() as client:
        for schedule, zone in cases:
            if not server_accepts(client, cronjob_path(namespace), cronjob(schedule, zone)):
                continue
            if not server_accepts(
                client, scheduledrun_path(namespace), scheduled_run(schedule, zone)
            ):
                refused.append(f"schedule={schedule!r} timeZone={zone!r}")
    assert not refused, "CRD refuses what a CronJob accepts:\n" + "\n".join(refused)
