"""SIGTERM from Kubernetes itself: a runner pod of a real Job (the product's rendered CronJob,
the real Job, garbage and CronJob controllers, the runner container on the real node, which the
kubelet stops with SIGTERM and the pod's grace period) is stopped mid-run by

- deleting the ScheduledRun (the garbage collector deletes its CronJob, Job and pod),
- `Replace` (the Job deleted, as the CronJob controller does to start a newer run),
- the Job's deadline (`activeDeadlineSeconds`: the Job controller stops the pod),

against the a2a-sdk server (cancel works) and kagent's own runtime (it cannot cancel). The agent's
task is cancelled where the agent can, and the entry is recorded where the ScheduledRun still
exists.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.agents import AgentServer
from devcluster.cluster import ControlPlane, eventually
from devcluster.images import Images
from devcluster.node import Node
from devcluster.peers import KagentRuntime, PeerProcess
from devcluster.stack import sr_path
from generator.cronjob.config import OperatorConfig
from generator.cronjob.render import render_cronjob
from generator.spec.trigger import manual_job
from runner import api
from tests.node_runs import grant_runner_access, pod_url

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def sdk(node: Node) -> Iterator[AgentServer]:
    with AgentServer() as server:
        # Pods reach the loopback server at the node's bridge address.
        server.base_url = f"http://{node.forward(server.port)}"
        yield server


@pytest.fixture(scope="module")
def kagent() -> Iterator[KagentRuntime]:
    with KagentRuntime() as runtime:
        yield runtime


class PodEnd:
    """Follows one pod to its end: its log (`kubectl logs -f`) and the last state of its
    container (a watch), so how a deleted pod exited and what it said are known after the
    pod object is gone."""

    def __init__(self, plane: ControlPlane, namespace: str, pod: str) -> None:
        self.plane = plane
        self.namespace = namespace
        self.pod = pod
        self.terminated: dict[str, Any] = {}
        self.logs = subprocess.Popen(
            [plane.kubectl_path(), "--kubeconfig", str(plane.kubeconfig), "-n", namespace,
             "logs", "-f", pod, "-c", api.RUNNER_CONTAINER],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        params = {"watch": "1", "fieldSelector": f"metadata.name={self.pod}"}
        with (
            self.plane.client(timeout=300) as client,
            client.stream("GET", f"/api/v1/namespaces/{self.namespace}/pods", params=params) as r,
        ):
            for line in r.iter_lines():
                event = json.loads(line)
                for status in event["object"].get("status", {}).get("containerStatuses") or []:
                    if "terminated" in status["state"]:
                        self.terminated = status["state"]["terminated"]
                if self.terminated or event["type"] == "DELETED":
                    return

    def wait(self, timeout: float) -> tuple[dict[str, Any], str]:
        """(the container's terminated state, its whole log)."""
        log, _ = self.logs.communicate(timeout=timeout)
        self.thread.join(timeout)
        return self.terminated, log


def start_run(
    plane: ControlPlane,
    namespace: str,
    base_url: str,
    image: str,
    agent: str,
    deadline: int | None,
) -> tuple[str, str]:
    """ScheduledRun -> the product's CronJob (suspended: no ticks) -> one manual Job, as
    `scheduledrun trigger` makes it; returns (ScheduledRun name, Job name)."""
    name = "stopped"
    body = {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "schedule": "@hourly",
            "prompt": "work until stopped",
            "targetRef": {"kind": "Agent", "name": agent},
            "timeout": "5m",
        },
    }
    config = OperatorConfig(
        a2a_base_url=base_url,
        runner_service_account="default",
        runner_image=image,
        image_pull_policy="Never",
    )
    with plane.client() as client:
        grant_runner_access(client, namespace)
        created = client.post(sr_path(namespace), json=body)
        assert created.status_code == 201, created.text
        cronjob = render_cronjob(created.json(), config)
        cronjob["spec"]["suspend"] = True
        response = client.post(f"/apis/batch/v1/namespaces/{namespace}/cronjobs", json=cronjob)
        assert response.status_code == 201, response.text
        job = manual_job(response.json(), f"{name}-manual")
        if deadline is not None:
            job["spec"]["activeDeadlineSeconds"] = deadline
        response = client.post(f"/apis/batch/v1/namespaces/{namespace}/jobs", json=job)
        assert response.status_code == 201, response.text
    assert job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == (
        api.TERMINATION_GRACE_SECONDS
    )
    return name, f"{name}-manual"


def entry_of(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any] | None:
    with plane.client() as client:
        response = client.get(sr_path(namespace, name))
        if response.status_code == 404:
            return None
        history = (response.json().get("status") or {}).get("runHistory") or []
        return history[0] if history else None


PEERS = ["a2a-sdk", "kagent-langgraph"]


@pytest.mark.parametrize("peer_id", PEERS)
@pytest.mark.parametrize("cause", ["scheduledrun-deleted", "replace", "job-deadline"])
def test_kubernetes_stops_the_runner_mid_run(
    control_plane: ControlPlane,
    namespace: str,
    node: Node,
    images: Images,
    request: pytest.FixtureRequest,
    peer_id: str,
    cause: str,
) -> None:
    peer: AgentServer | PeerProcess = request.getfixturevalue(
        "sdk" if peer_id == "a2a-sdk" else "kagent"
    )
    agent = f"hang-{namespace}"
    # The deadline case: long enough for the runner to start and reach the agent first.
    deadline = 20 if cause == "job-deadline" else None
    url = pod_url(node, peer)
    name, job = start_run(control_plane, namespace, url, images.runner, agent, deadline)

    def task_recorded() -> str | None:
        entry = entry_of(control_plane, namespace, name)
        return entry.get("taskID") if entry else None

    task = eventually("the runner following the agent's task", task_recorded, timeout=60)

    def running_pod() -> str | None:
        with control_plane.client() as client:
            listed = client.get(
                f"/api/v1/namespaces/{namespace}/pods",
                params={"labelSelector": f"batch.kubernetes.io/job-name={job}"},
            ).json()["items"]
        running = [p["metadata"]["name"] for p in listed if p["status"].get("phase") == "Running"]
        return running[0] if running else None

    pod = eventually("the runner's running pod", running_pod, timeout=60)
    end = PodEnd(control_plane, namespace, pod)
    with control_plane.client() as client:
        if cause == "scheduledrun-deleted":
            response = client.delete(sr_path(namespace, name))
        elif cause == "replace":  # what the CronJob controller does for concurrencyPolicy Replace
            response = client.delete(
                f"/apis/batch/v1/namespaces/{namespace}/jobs/{job}",
                params={"propagationPolicy": "Background"},
            )
        if cause != "job-deadline":
            assert response.status_code in (200, 202), response.text

    terminated, log = end.wait(timeout=90)
    assert '"step": "stopping"' in log, log
    assert terminated, log
    assert terminated["reason"] != "OOMKilled"
    assert terminated["exitCode"] == api.EXIT_FINAL_FAILURE, log  # its own exit, not SIGKILL's 137
    if isinstance(peer, AgentServer):
        assert task in peer.finished  # the agent's task was cancelled
        assert '"state": "canceled"' in log
    else:
        assert "Cancellation is not implemented" in log
    entry = entry_of(control_plane, namespace, name)
    if cause == "scheduledrun-deleted":
        assert entry is None  # nowhere left to record: the log says it
        assert '"cause": "the ScheduledRun was deleted"' in log or "is being deleted" in log
        return
    assert entry is not None
    if cause == "job-deadline":
        assert entry["status"] == "Timeout", entry
        assert entry["message"].startswith("no result within 5m; stopped at the deadline; ")
    else:
        assert entry["status"] == "Failed", entry
        assert entry["message"].startswith("stopped: the run's Job was deleted"), entry
    if isinstance(peer, AgentServer):
        assert entry["message"].endswith("the agent's task was cancelled"), entry
    else:
        assert "the agent could not cancel its task" in entry["message"], entry
