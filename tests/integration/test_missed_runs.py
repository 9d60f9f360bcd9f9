"""Missed runs with a real, starved CronJob controller: a control plane of its own whose
kube-controller-manager talks to the apiserver at one request a second, so it cannot start 24
per-minute CronJobs within their ten-second startingDeadlineSeconds. The operator counts the ticks
that passed without a Job in status (missedRuns, lastMissedTime, lastMissedReason), shows them in
`kubectl get sr`, posts a MissedRun event and counts kagent_scheduledrun_missed_runs_total; a
tick it calls missed has no Job, and every Job made has its creation delay observed. The judging
rules are tests/unit/test_missed.py's table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.cluster import ControlPlane, binaries, eventually
from devcluster.operator import OperatorProcess
from runner import api
from tests.kube_helpers import create, create_agent, get_sr, scheduledrun

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(420)]

NAMESPACE = "starved"
NAMES = [f"minute-{i:02d}" for i in range(24)]
# One request a second for each controller's client: a tick's 24 Jobs need 48 writes, ten seconds
# allow about ten. (Slower still, the controller-manager itself takes minutes to start.)
STARVED = ("--kube-api-qps=1", "--kube-api-burst=2")


@pytest.fixture(scope="module")
def starved_plane() -> Iterator[ControlPlane]:
    plane = ControlPlane(binaries(), controller_manager_flags=STARVED)
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


def metric_total(operator: OperatorProcess, series: str) -> float:
    total = 0.0
    for line in operator.metrics().splitlines():
        if line.startswith(series + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def missed_total(operator: OperatorProcess) -> float:
    return metric_total(operator, "kagent_scheduledrun_missed_runs_total")


def test_ticks_a_starved_controller_never_started_are_counted(
    starved_plane: ControlPlane,
) -> None:
    plane = starved_plane
    with plane.client() as kube:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        assert kube.post("/api/v1/namespaces", json=body).status_code == 201
        create_agent(kube, NAMESPACE, "helper")
        for name in NAMES:
            spec: dict[str, Any] = {"schedule": "* * * * *", "startingDeadlineSeconds": 10}
            create(kube, NAMESPACE, scheduledrun(name, concurrencyPolicy="Allow", **spec))
        operator = OperatorProcess(plane, "--namespace", NAMESPACE).start()
        try:

            def missed_ones() -> list[dict[str, Any]]:
                found = [get_sr(kube, NAMESPACE, name) for name in NAMES]
                return [sr for sr in found if (sr.get("status") or {}).get("missedRuns")]

            starved = eventually("a missed run counted", missed_ones, timeout=240)
            status = starved[0]["status"]
            assert status["lastMissedReason"] == "DeadlineExceeded"
            jobs = kube.get(f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs").json()["items"]
            made = {
                (
                    j["metadata"]["labels"].get(api.LABEL_SCHEDULEDRUN),
                    j["metadata"]["annotations"].get(api.ANNOTATION_SCHEDULED_TIME),
                )
                for j in jobs
            }
            for sr in starved:  # a tick called missed has no Job
                label = sr["metadata"]["name"]
                assert (label, sr["status"]["lastMissedTime"]) not in made

            # Every Job the starved controller did make has its delay after the tick observed.
            delays = "kagent_scheduledrun_job_creation_delay_seconds_count"
            assert eventually("delays", lambda: metric_total(operator, delays) >= len(jobs) > 0)
            counted = sum(sr["status"]["missedRuns"] for sr in missed_ones())
            assert eventually("the metric", lambda: missed_total(operator) >= counted)
            events = kube.get(f"/api/v1/namespaces/{NAMESPACE}/events").json()["items"]
            warned = [e for e in events if e["reason"] == "MissedRun"]
            assert warned
            assert "did not start" in warned[0]["message"]
            printed = plane.kubectl("get", "sr", "-n", NAMESPACE).stdout
            assert " MISSED " in printed.splitlines()[0]
        finally:
            operator.stop()
