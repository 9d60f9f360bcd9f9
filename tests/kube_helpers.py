"""What the cluster tests do again and again against the real apiserver: build, create and read
ScheduledRuns, Agents and CronJobs as the admin, and wait on state with a deadline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from devcluster.cluster import ControlPlane, eventually
from runner import api
from runner.kube import scheduledrun_path, scheduledruns_path
from tests import builders

WAIT = 60.0  # a busy 2-core machine: most waits end in well under a second


def scheduledrun(
    name: str, target: str = "helper", kind: str = "Agent", **spec: Any
) -> dict[str, Any]:
    return builders.scheduledrun(
        name,
        None,
        target=target,
        kind=kind,
        **{"schedule": "*/5 * * * *", "prompt": "Summarise the cluster's health.", **spec},
    )


def create(kube: httpx.Client, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    response = kube.post(scheduledruns_path(namespace), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def create_agent(kube: httpx.Client, namespace: str, name: str, kind: str = "Agent") -> None:
    plural = "agents" if kind == "Agent" else "sandboxagents"
    body = {"apiVersion": "kagent.dev/v1alpha2", "kind": kind, "metadata": {"name": name}}
    path = f"/apis/kagent.dev/v1alpha2/namespaces/{namespace}/{plural}"
    assert kube.post(path, json=body).status_code == 201


def get_sr(kube: httpx.Client, namespace: str, name: str) -> dict[str, Any]:
    response = kube.get(scheduledrun_path(namespace, name))
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def apply(plane: ControlPlane, obj: dict[str, Any]) -> None:
    """`kubectl apply` one object, as a person would."""
    plane.kubectl("apply", "-f", "-", input=json.dumps(obj))


def get_cronjob(kube: httpx.Client, namespace: str, name: str) -> dict[str, Any] | None:
    response = kube.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def patch_spec(kube: httpx.Client, namespace: str, name: str, spec: dict[str, Any]) -> None:
    response = kube.patch(
        scheduledrun_path(namespace, name),
        json={"spec": spec},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text


def accepted(sr: dict[str, Any]) -> dict[str, Any] | None:
    for condition in (sr.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Accepted":
            return dict(condition)
    return None


def wait_condition(
    kube: httpx.Client,
    namespace: str,
    name: str,
    status: str,
    reason: str,
    timeout: float = WAIT,
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        sr = get_sr(kube, namespace, name)
        condition = accepted(sr)
        generation = sr["metadata"]["generation"]
        observed = (sr.get("status") or {}).get("observedGeneration")
        if condition and (condition["status"], condition["reason"]) == (status, reason):
            return sr if observed == generation else None
        return None

    result: dict[str, Any] = eventually(
        f"{name} Accepted={status}/{reason}", probe, timeout=timeout
    )
    return result


def write_history(
    kube: httpx.Client, namespace: str, name: str, entries: list[dict[str, Any]]
) -> None:
    """Write runHistory the way the runner does: a status patch."""
    response = kube.patch(
        scheduledrun_path(namespace, name) + "/status",
        json={"status": {"runHistory": entries, "lastRunStatus": entries[0]["status"]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def tick_witness(plane: ControlPlane, namespace: str) -> datetime:
    """A CronJob that fires every minute and runs nothing (parallelism 0): waits until the
    CronJob controller has fired it for the next minute, and returns that minute. The controller
    queues every CronJob due at a minute for that minute, so by then it has seen the others."""
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick-witness", "namespace": namespace},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {"spec": {"parallelism": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "none", "image": "none.invalid/none"}],
            }}}},
        },
    }  # fmt: skip
    minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    apply(plane, cronjob)

    def fired() -> bool:
        out = plane.kubectl(
            "-n", namespace, "get", "cronjob", "tick-witness",
            "-o", "jsonpath={.status.lastScheduleTime}",
        ).stdout  # fmt: skip
        return bool(out) and datetime.fromisoformat(out.replace("Z", "+00:00")) >= minute

    eventually("the CronJob controller's next tick", fired, timeout=150)
    return minute


def scheduled_jobs_since(
    plane: ControlPlane, namespace: str, scheduledrun: str, minute: datetime
) -> list[str]:
    """The ScheduledRun's Jobs the CronJob controller made for a tick at `minute` or later."""
    listed = plane.kubectl(
        "-n", namespace, "get", "jobs", "-l", f"{api.LABEL_SCHEDULEDRUN}={scheduledrun}",
        "-o", "json",
    ).stdout  # fmt: skip
    since = minute.strftime("%Y-%m-%dT%H:%M:%SZ")
    return sorted(
        job["metadata"]["name"]
        for job in json.loads(listed)["items"]
        if (job["metadata"].get("annotations") or {}).get(api.ANNOTATION_SCHEDULED_TIME, "")
        >= since
    )
