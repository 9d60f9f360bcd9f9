"""`scheduledrun run` as a process against the real kube-apiserver when what it reads was written
to hurt it (issue 16): a history forged with entries dated in the future.

The runner authenticates with the admin kubeconfig and sends to the a2a-sdk test agents; each
run gets a real (suspended) Job for its name and uid, as in test_runner_cluster.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devcluster.agents import AgentServer, running
from devcluster.cluster import ControlPlane
from runner import api
from tests.integration.test_runner_cluster import (
    T0,
    create_job,
    create_scheduledrun,
    run_history,
    start_runner,
)

pytestmark = pytest.mark.cluster

SR_PATH = f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{{ns}}/{api.PLURAL}/{{name}}"


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


def test_entries_dated_in_the_future_never_crowd_out_the_run(
    control_plane: ControlPlane, namespace: str, agents: AgentServer
) -> None:
    create_scheduledrun(control_plane, namespace, "forged", "echo-forged", maxRunHistory=10)
    forged = [
        {"id": f"fake-{n}", "status": "Succeeded", "scheduledTime": f"2099-01-01T00:0{n}:00Z"}
        for n in range(10)
    ]
    with control_plane.client() as client:
        response = client.patch(
            SR_PATH.format(ns=namespace, name="forged") + "/status",
            json={"status": {"runHistory": forged, "lastRunStatus": "Failed"}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert response.status_code == 200, response.text
    uid = create_job(control_plane, namespace, "forged-1", T0)

    runner = start_runner(control_plane, agents, namespace, "forged", "forged-1", uid)
    code = runner.wait(timeout=120)
    log = runner.stderr.read() if runner.stderr else ""

    assert code == api.EXIT_SUCCEEDED, log
    assert [(e["id"], e["status"]) for e in run_history(control_plane, namespace, "forged")] == [
        ("forged-1", "Succeeded")
    ]
    with control_plane.client() as client:
        status = client.get(SR_PATH.format(ns=namespace, name="forged")).json()["status"]
    assert status["lastRunStatus"] == "Succeeded"
    assert len(agents.received_by("echo-forged")) == 1
