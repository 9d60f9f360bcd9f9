"""The real CronJob and Job controllers driving pods run by the kubelet stand-in.

Covers: a one-minute CronJob produces a Job whose pod runs and completes; `kubectl create job
--from=cronjob/...` runs at once; the podFailurePolicy fails a Job at once on the runner's final
exit code but retries other failures; a Job's activeDeadlineSeconds kills its running pod; the
pod's process sees its downward-API env and a real ServiceAccount token that RBAC restricts.
These pods run `sh`/`python` instead of `scheduledrun` (allowed by the kubelet_commands marker):
they test Kubernetes' behaviour and the stand-in, not the runner.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
from typing import Any

import pytest

from devcluster.cluster import ControlPlane
from devcluster.kubelet import KubeletStandIn
from runner import api

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.kubelet_commands({"sh": shutil.which("sh") or "/bin/sh", "python": sys.executable}),
]


def pod_template(command: list[str], env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A runner-labelled pod template that the "restricted" Pod Security Standard admits."""
    return {
        "metadata": {"labels": {api.LABEL_COMPONENT: api.COMPONENT_RUNNER}},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": api.RUNNER_CONTAINER,
                    "image": "example.invalid/scheduledrun-runner:test",
                    "command": command,
                    "env": env or [],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                        "readOnlyRootFilesystem": True,
                    },
                }
            ],
        },
    }


def final_exit_policy() -> dict[str, Any]:
    """The runner's podFailurePolicy: a final outcome fails the Job; disruptions are ignored."""
    return {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": api.RUNNER_CONTAINER,
                    "operator": "In",
                    "values": [api.EXIT_FINAL_FAILURE],
                },
            },
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        ]
    }


def job(name: str, command: list[str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": pod_template(command), **spec},
    }


def create(control_plane: ControlPlane, path: str, obj: dict[str, Any]) -> None:
    with control_plane.client() as client:
        response = client.post(path, json=obj)
        assert response.status_code == 201, response.text


def job_condition(
    control_plane: ControlPlane, namespace: str, name: str, timeout: float
) -> dict[str, Any]:
    """Wait for the Job's Complete or Failed condition and return it."""
    found: dict[str, Any] = {}

    def finished() -> bool:
        with control_plane.client() as client:
            response = client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")
        for condition in response.json().get("status", {}).get("conditions", []):
            if condition["type"] in ("Complete", "Failed") and condition["status"] == "True":
                found.update(condition)
                return True
        return False

    control_plane.wait_for(f"Job {namespace}/{name} to finish", finished, timeout=timeout)
    return found


def test_one_minute_cronjob_runs_a_job_to_completion(
    control_plane: ControlPlane, namespace: str, kubelet: KubeletStandIn
) -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "every-minute"},
        "spec": {
            "schedule": "*/1 * * * *",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "spec": {"backoffLimit": 0, "template": pod_template(["sh", "-c", "exit 0"])}
            },
        },
    }
    create(control_plane, f"/apis/batch/v1/namespaces/{namespace}/cronjobs", cronjob)
    jobs: list[dict[str, Any]] = []

    def job_exists() -> bool:
        with control_plane.client() as client:
            items = client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs").json()["items"]
        jobs[:] = items
        return bool(items)

    control_plane.wait_for("the CronJob controller to create a Job", job_exists, timeout=90)
    created = jobs[0]
    assert created["metadata"]["ownerReferences"][0]["name"] == "every-minute"
    assert api.ANNOTATION_SCHEDULED_TIME in created["metadata"]["annotations"]
    condition = job_condition(control_plane, namespace, created["metadata"]["name"], timeout=60)
    assert condition["type"] == "Complete"
    runs = kubelet.wait_for_runs(namespace, 1)
    assert (runs[0].argv[1:], runs[0].exit_code) == (("-c", "exit 0"), 0)


def test_kubectl_create_job_from_cronjob_runs_now(
    control_plane: ControlPlane, namespace: str, kubelet: KubeletStandIn
) -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "yearly"},
        "spec": {
            "schedule": "0 0 1 1 *",
            "suspend": True,
            "jobTemplate": {
                "spec": {"backoffLimit": 0, "template": pod_template(["sh", "-c", "exit 0"])}
            },
        },
    }
    create(control_plane, f"/apis/batch/v1/namespaces/{namespace}/cronjobs", cronjob)
    control_plane.kubectl("create", "job", "--from=cronjob/yearly", "yearly-now", "-n", namespace)
    condition = job_condition(control_plane, namespace, "yearly-now", timeout=60)
    assert condition["type"] == "Complete"
    with control_plane.client() as client:
        made = client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/yearly-now").json()
    assert made["metadata"]["annotations"][api.ANNOTATION_INSTANTIATE] == "manual"
    assert [run.pod.startswith("yearly-now-") for run in kubelet.wait_for_runs(namespace, 1)] == [
        True
    ]


def test_final_exit_code_fails_the_job_without_retry(
    control_plane: ControlPlane, namespace: str, kubelet: KubeletStandIn
) -> None:
    command = ["sh", "-c", f"exit {api.EXIT_FINAL_FAILURE}"]
    spec = {"backoffLimit": 3, "podFailurePolicy": final_exit_policy()}
    create(
        control_plane, f"/apis/batch/v1/namespaces/{namespace}/jobs", job("final", command, **spec)
    )
    condition = job_condition(control_plane, namespace, "final", timeout=60)
    assert (condition["type"], condition["reason"]) == ("Failed", "PodFailurePolicy")
    time.sleep(2)  # a retry, if the policy were ignored, would start within this
    assert [run.exit_code for run in kubelet.runs if run.namespace == namespace] == [3]


def test_other_exit_code_is_retried_up_to_the_backoff_limit(
    control_plane: ControlPlane, namespace: str, kubelet: KubeletStandIn
) -> None:
    command = ["sh", "-c", f"exit {api.EXIT_RETRY}"]
    spec = {"backoffLimit": 1, "podFailurePolicy": final_exit_policy()}
    create(
        control_plane, f"/apis/batch/v1/namespaces/{namespace}/jobs", job("retry", command, **spec)
    )
    condition = job_condition(control_plane, namespace, "retry", timeout=90)
    assert (condition["type"], condition["reason"]) == ("Failed", "BackoffLimitExceeded")
    assert [run.exit_code for run in kubelet.runs if run.namespace == namespace] == [1, 1]


def test_job_deadline_kills_the_running_process(
    control_plane: ControlPlane, namespace: str, kubelet: KubeletStandIn
) -> None:
    command = ["sh", "-c", "sleep 300"]
    spec = {"podFailurePolicy": final_exit_policy(), "backoffLimit": 2}
    jobs = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    create(control_plane, jobs, job("slow", command, **spec))
    with control_plane.client() as client:

        def running() -> bool:
            pods = client.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]
            return [pod["status"].get("phase") for pod in pods] == ["Running"]

        control_plane.wait_for("the pod to run", running, timeout=60)
        # The deadline is set only now, so it strikes a running process however slow the start.
        deadline = {"spec": {"activeDeadlineSeconds": 1}}
        headers = {"Content-Type": "application/merge-patch+json"}
        client.patch(f"{jobs}/slow", json=deadline, headers=headers).raise_for_status()
        condition = job_condition(control_plane, namespace, "slow", timeout=60)
        assert (condition["type"], condition["reason"]) == ("Failed", "DeadlineExceeded")
        runs = kubelet.wait_for_runs(namespace, 1, timeout=45)
        assert runs[0].exit_code == 128 + 15, runs  # SIGTERM from the graceful deletion

        def pod_gone() -> bool:
            return not client.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]

        control_plane.wait_for("the deleted pod to be removed", pod_gone, timeout=30)


PROBE = textwrap.dedent(
    """
    import os, ssl, httpx
    folder = os.environ["SCHEDULEDRUN_SERVICEACCOUNT_DIR"]
    token = open(os.path.join(folder, "token")).read()
    host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
    base = "https://%s:%s" % (host, port)
    tls = ssl.create_default_context(cafile=os.path.join(folder, "ca.crt"))
    client = httpx.Client(base_url=base, verify=tls, headers={"Authorization": "Bearer " + token})
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    who = client.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json=review).json()
    print("user", who["status"]["userInfo"]["username"])
    namespace = open(os.path.join(folder, "namespace")).read()
    print("secrets", client.get("/api/v1/namespaces/%s/secrets" % namespace).status_code)
    has_kubeconfig = "KUBECONFIG" in os.environ
    print("pod", os.environ["POD"], "job", os.environ["JOB"], "kubeconfig", has_kubeconfig)
    """
)


def test_pod_gets_downward_env_and_a_restricted_service_account_token(
    control_plane: ControlPlane, namespace: str, kubelet: KubeletStandIn
) -> None:
    env = [
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": "JOB",
            "valueFrom": {
                "fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}
            },
        },
    ]
    body = job("probe", ["python", "-c", PROBE], backoffLimit=0)
    body["spec"]["template"] = pod_template(["python", "-c", PROBE], env)
    create(control_plane, f"/apis/batch/v1/namespaces/{namespace}/jobs", body)
    condition = job_condition(control_plane, namespace, "probe", timeout=60)
    run = kubelet.wait_for_runs(namespace, 1)[0]
    output = kubelet.logs(namespace, run.pod)
    assert condition["type"] == "Complete", output
    assert output.splitlines() == [
        f"user system:serviceaccount:{namespace}:default",
        "secrets 403",
        f"pod {run.pod} job probe kubeconfig False",
    ]
