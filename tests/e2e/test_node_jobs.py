"""The real CronJob and Job controllers driving real containers on the development cluster's
node (containerd + runc + kubelet), from the runner image.

Covers: a one-minute CronJob produces a Job whose container runs and completes; `kubectl create
job --from=cronjob/...` runs at once; the podFailurePolicy fails a Job at once on the runner's
final exit code but retries other failures; a Job's activeDeadlineSeconds stops its running
container; a container sees its downward-API env and reaches the API server at the `kubernetes`
Service address with a real ServiceAccount token that RBAC restricts. These pods run `sh` and
`python` from the runner image instead of `scheduledrun run`: they test Kubernetes' behaviour on
this node, not the runner (tests/e2e/test_end_to_end.py runs the runner).
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from devcluster.cluster import ControlPlane
from devcluster.images import Images
from devcluster.node import Node
from runner import api
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.fixture
def image(images: Images, node: Node) -> str:
    """The runner image, imported into the running node."""
    return images.runner


def pod_template(
    image: str, command: list[str], env: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A runner-labelled pod template that the "restricted" Pod Security Standard admits."""
    return {
        "metadata": {"labels": {api.LABEL_COMPONENT: api.COMPONENT_RUNNER}},
        "spec": {
            "restartPolicy": "Never",
            # `sh` as pid 1 ignores SIGTERM: a short grace period keeps deletions quick.
            "terminationGracePeriodSeconds": 2,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "runAsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": api.RUNNER_CONTAINER,
                    "image": image,
                    "imagePullPolicy": "Never",
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
    """The runner's podFailurePolicy, as the operator renders it: a final outcome fails the Job;
    disruptions are ignored."""
    policy: dict[str, Any] = builders.job_spec()["podFailurePolicy"]
    return policy


def job(name: str, image: str, command: list[str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": pod_template(image, command), **spec},
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


def exit_codes(control_plane: ControlPlane, namespace: str) -> list[int]:
    """Exit codes of the namespace's terminated runner containers, oldest pod first."""
    with control_plane.client() as client:
        pods = client.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]
    codes = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"]):
        for status in pod["status"].get("containerStatuses") or []:
            terminated = status["state"].get("terminated")
            if terminated is not None:
                codes.append(terminated["exitCode"])
    return codes


def test_one_minute_cronjob_runs_a_job_to_completion(
    control_plane: ControlPlane, namespace: str, image: str
) -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "every-minute"},
        "spec": {
            "schedule": "*/1 * * * *",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "template": pod_template(image, ["sh", "-c", "echo ran; exit 0"]),
                }
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
    name = created["metadata"]["name"]
    assert created["metadata"]["ownerReferences"][0]["name"] == "every-minute"
    assert api.ANNOTATION_SCHEDULED_TIME in created["metadata"]["annotations"]
    condition = job_condition(control_plane, namespace, name, timeout=90)
    assert condition["type"] == "Complete"
    assert exit_codes(control_plane, namespace) == [0]
    logs = control_plane.kubectl("-n", namespace, "logs", f"job/{name}").stdout
    assert logs == "ran\n"


def test_kubectl_create_job_from_cronjob_runs_now(
    control_plane: ControlPlane, namespace: str, image: str
) -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "yearly"},
        "spec": {
            "schedule": "0 0 1 1 *",
            "suspend": True,
            "jobTemplate": {
                "spec": {"backoffLimit": 0, "template": pod_template(image, ["sh", "-c", "exit 0"])}
            },
        },
    }
    create(control_plane, f"/apis/batch/v1/namespaces/{namespace}/cronjobs", cronjob)
    control_plane.kubectl("create", "job", "--from=cronjob/yearly", "yearly-now", "-n", namespace)
    condition = job_condition(control_plane, namespace, "yearly-now", timeout=90)
    assert condition["type"] == "Complete"
    with control_plane.client() as client:
        made = client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/yearly-now").json()
    assert made["metadata"]["annotations"][api.ANNOTATION_INSTANTIATE] == "manual"
    assert exit_codes(control_plane, namespace) == [0]


def test_final_exit_code_fails_the_job_without_retry(
    control_plane: ControlPlane, namespace: str, image: str
) -> None:
    command = ["sh", "-c", f"exit {api.EXIT_FINAL_FAILURE}"]
    spec = {"backoffLimit": 3, "podFailurePolicy": final_exit_policy()}
    body = job("final", image, command, **spec)
    create(control_plane, f"/apis/batch/v1/namespaces/{namespace}/jobs", body)
    condition = job_condition(control_plane, namespace, "final", timeout=90)
    assert (condition["type"], condition["reason"]) == ("Failed", "PodFailurePolicy")
    # A failed Job starts no more pods: its count of failed pods is final. Ignoring the policy
    # would have retried before failing (BackoffLimitExceeded after four pods).
    with control_plane.client() as client:
        status = client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/final").json()["status"]
    assert (status.get("failed"), exit_codes(control_plane, namespace)) == (1, [3])


def test_other_exit_code_is_retried_up_to_the_backoff_limit(
    control_plane: ControlPlane, namespace: str, image: str
) -> None:
    command = ["sh", "-c", f"exit {api.EXIT_RETRY}"]
    spec = {"backoffLimit": 1, "podFailurePolicy": final_exit_policy()}
    body = job("retry", image, command, **spec)
    create(control_plane, f"/apis/batch/v1/namespaces/{namespace}/jobs", body)
    condition = job_condition(control_plane, namespace, "retry", timeout=120)
    assert (condition["type"], condition["reason"]) == ("Failed", "BackoffLimitExceeded")
    assert exit_codes(control_plane, namespace) == [1, 1]


def test_job_deadline_stops_the_running_container(
    control_plane: ControlPlane, namespace: str, image: str, node: Node
) -> None:
    spec = {"podFailurePolicy": final_exit_policy(), "backoffLimit": 2}
    jobs = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    create(control_plane, jobs, job("slow", image, ["sleep", "300"], **spec))
    with control_plane.client() as client:

        def running() -> bool:
            pods = client.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]
            return [pod["status"].get("phase") for pod in pods] == ["Running"]

        control_plane.wait_for("the pod to run", running, timeout=90)
        tasks_before = set(node.ctr("tasks", "ls", "-q").split())
        # The deadline is set only now, so it strikes a running container however slow the start.
        deadline = {"spec": {"activeDeadlineSeconds": 1}}
        headers = {"Content-Type": "application/merge-patch+json"}
        client.patch(f"{jobs}/slow", json=deadline, headers=headers).raise_for_status()
        condition = job_condition(control_plane, namespace, "slow", timeout=60)
        assert (condition["type"], condition["reason"]) == ("Failed", "DeadlineExceeded")

        def pod_gone() -> bool:
            return not client.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]

        # The kubelet confirms a graceful deletion only once the container has stopped.
        control_plane.wait_for("the deleted pod to be removed", pod_gone, timeout=60)
    assert tasks_before
    assert not tasks_before & set(node.ctr("tasks", "ls", "-q").split())


PROBE = textwrap.dedent(
    """
    import os, ssl, httpx
    folder = os.environ["SERVICE_ACCOUNT_DIR"]
    token = open(os.path.join(folder, "token")).read()
    host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
    print("server", host, port)
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
    print("uid", os.getuid(), "gid", os.getgid())
    """
)


def test_pod_gets_downward_env_and_reaches_the_api_server_with_a_restricted_token(
    control_plane: ControlPlane, namespace: str, image: str
) -> None:
    env: list[dict[str, Any]] = [
        {"name": "SERVICE_ACCOUNT_DIR", "value": SERVICE_ACCOUNT_DIR},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": "JOB",
            "valueFrom": {
                "fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}
            },
        },
    ]
    body = job("probe", image, ["python", "-c", PROBE], backoffLimit=0)
    body["spec"]["template"] = pod_template(image, ["python", "-c", PROBE], env)
    create(control_plane, f"/apis/batch/v1/namespaces/{namespace}/jobs", body)
    condition = job_condition(control_plane, namespace, "probe", timeout=90)
    output = control_plane.kubectl("-n", namespace, "logs", "job/probe").stdout
    assert condition["type"] == "Complete", output
    with control_plane.client() as client:
        pods = client.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]
    assert output.splitlines() == [
        "server 10.0.0.1 443",
        f"user system:serviceaccount:{namespace}:default",
        "secrets 403",
        f"pod {pods[0]['metadata']['name']} job probe kubeconfig False",
        "uid 65532 gid 65532",
    ]
