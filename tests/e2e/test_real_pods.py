"""The product's two pods as real containers on the real node, in namespaces that enforce Pod
Security "restricted".

Covers: the operator's pod (the chart's Deployment, from the operator image) becomes Ready
through its probes and reconciles with nothing but its in-cluster ServiceAccount token; both
the operator's and a runner's container run as uid and gid 65532 on a read-only root
filesystem; a Job deadline stops a running runner container and its history entry ends
`Timeout`. (tests/e2e/test_end_to_end.py covers ticks, manual runs, logs and exit code 3.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from devcluster.cluster import RESTRICTED_LABELS, ControlPlane, eventually
from devcluster.images import Images
from devcluster.stack import RELEASE_NAMESPACE, Stack, sr_path
from runner import api
from tests.kube_helpers import apply

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Run inside a container: who it runs as, and whether the root filesystem takes a write.
IDENTITY = (
    "import os\n"
    "try:\n"
    "    open('/probe', 'w')\n"
    "    writable = 'writable'\n"
    "except OSError as error:\n"
    "    writable = error.strerror\n"
    "print(os.getuid(), os.getgid(), writable)\n"
)


def identity(plane: ControlPlane, namespace: str, pod: str, container: str) -> str:
    result = plane.kubectl(
        "-n", namespace, "exec", pod, "-c", container, "--", "python", "-c", IDENTITY
    )
    return result.stdout.strip()


def test_operator_pod_is_ready_restricted_and_reconciles_with_its_token(
    stack: Stack, control_plane: ControlPlane, images: Images, namespace: str
) -> None:
    plane = control_plane
    pod = stack.wait_operator_ready()
    container = pod["spec"]["containers"][0]
    assert container["image"] == images.operator
    assert pod["spec"]["nodeName"] == stack.node.name
    # Ready came from the kubelet running the chart's readiness probe against the container.
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    status = pod["status"]["containerStatuses"][0]
    assert (status["ready"], status["restartCount"]) == (True, 0)
    # Its only credentials: the projected ServiceAccount token the kubelet mounted.
    assert "KUBECONFIG" not in {env["name"] for env in container.get("env") or []}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert SERVICE_ACCOUNT_DIR in mounts
    labels = plane.kubectl(
        "get", "namespace", RELEASE_NAMESPACE, "-o", "jsonpath={.metadata.labels}"
    ).stdout
    assert RESTRICTED_LABELS.items() <= json.loads(labels).items()
    name = pod["metadata"]["name"]
    assert identity(plane, RELEASE_NAMESPACE, name, "operator") == (
        "65532 65532 Read-only file system"
    )

    # It reconciles: a ScheduledRun gets its CronJob, written with that token.
    apply(
        plane,
        {
            "apiVersion": api.API_VERSION,
            "kind": "Agent",
            "metadata": {"name": "echo-token", "namespace": namespace},
            "spec": {},
        },
    )
    apply(
        plane,
        {
            "apiVersion": api.API_VERSION,
            "kind": api.KIND,
            "metadata": {"name": "token-check", "namespace": namespace},
            "spec": {
                "schedule": "0 3 * * *",
                "prompt": "hi",
                "targetRef": {"kind": "Agent", "name": "echo-token"},
            },
        },
    )

    def cronjob_owner() -> str | None:
        result = plane.kubectl(
            "-n", namespace, "get", "cronjob", "token-check", "-o", "json", check=False
        )
        if result.returncode != 0:
            return None
        return str(json.loads(result.stdout)["metadata"]["ownerReferences"][0]["name"])

    assert eventually("the operator's CronJob", cronjob_owner, timeout=60) == "token-check"


def test_job_deadline_stops_the_runner_container_and_the_entry_ends_timeout(
    stack: Stack, control_plane: ControlPlane, namespace: str
) -> None:
    plane = control_plane
    apply(
        plane,
        {
            "apiVersion": api.API_VERSION,
            "kind": "Agent",
            "metadata": {"name": "hang-reporter", "namespace": namespace},
            "spec": {},
        },
    )
    apply(
        plane,
        {
            "apiVersion": api.API_VERSION,
            "kind": api.KIND,
            "metadata": {"name": "stuck", "namespace": namespace},
            "spec": {
                "schedule": "0 3 * * *",
                "suspend": True,
                "prompt": "never answered",
                "targetRef": {"kind": "Agent", "name": "hang-reporter"},
                "timeout": "10m",
            },
        },
    )

    def cronjob() -> str | None:
        with plane.client() as client:
            status = client.get(sr_path(namespace, "stuck")).json().get("status") or {}
        return status.get("cronJobName")

    name = eventually("the CronJob", cronjob, timeout=60)
    plane.kubectl("-n", namespace, "create", "job", f"--from=cronjob/{name}", "stuck-now")

    def pending_entry() -> dict[str, Any] | None:
        with plane.client() as client:
            status = client.get(sr_path(namespace, "stuck")).json().get("status") or {}
        for entry in status.get("runHistory") or []:
            if entry["id"] == "stuck-now" and entry["status"] == "Pending" and entry.get("taskID"):
                return dict(entry)
        return None

    # The runner sent the prompt and now follows the agent's never-ending task.
    eventually("the runner's Pending entry with a task", pending_entry, timeout=120)
    pods = plane.kubectl(
        "-n", namespace, "get", "pods", "-l", "batch.kubernetes.io/job-name=stuck-now",
        "-o", "jsonpath={.items[*].metadata.name}",
    ).stdout.split()  # fmt: skip
    assert len(pods) == 1
    assert identity(plane, namespace, pods[0], api.RUNNER_CONTAINER) == (
        "65532 65532 Read-only file system"
    )

    plane.kubectl(
        "-n", namespace, "patch", "job", "stuck-now", "--type", "merge",
        "-p", '{"spec":{"activeDeadlineSeconds":1}}',
    )  # fmt: skip

    def job_failed_reason() -> str | None:
        with plane.client() as client:
            job = client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/stuck-now").json()
        for condition in job.get("status", {}).get("conditions", []):
            if condition["type"] == "Failed" and condition["status"] == "True":
                return str(condition["reason"])
        return None

    assert eventually("the Job failed", job_failed_reason, timeout=60) == "DeadlineExceeded"

    def pod_gone() -> bool:
        with plane.client() as client:
            listed = client.get(
                f"/api/v1/namespaces/{namespace}/pods",
                params={"labelSelector": "batch.kubernetes.io/job-name=stuck-now"},
            ).json()["items"]
        return not listed

    # The kubelet confirms the deletion only once the runner container has stopped.
    eventually("the runner pod stopped and removed", pod_gone, timeout=90)

    def final_entry() -> dict[str, Any] | None:
        with plane.client() as client:
            status = client.get(sr_path(namespace, "stuck")).json().get("status") or {}
        for entry in status.get("runHistory") or []:
            if entry["id"] == "stuck-now" and entry["status"] in api.TERMINAL_STATUSES:
                return dict(entry)
        return None

    entry = eventually("the entry's final status", final_entry, timeout=90)
    assert entry["status"] == "Timeout", entry
