"""`scheduledrun run` as a process against the real control plane, for one real Job per run.

Each run gets a real Job (created suspended, so nothing runs it) for its name and uid, as a
CronJob tick would; the runner authenticates with the admin kubeconfig (in-pod credentials are
exercised by the e2e tests). Used by the runner's cluster, peer and hostile-agent tests and the
Argo CD health test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devcluster.agents import AgentServer
from devcluster.cluster import ControlPlane
from runner import api, history
from tests import builders

SCHEDULEDRUN = Path(sys.executable).with_name("scheduledrun")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def create_scheduledrun(
    plane: ControlPlane, namespace: str, name: str, agent: str, **spec: Any
) -> None:
    body = builders.scheduledrun(
        name,
        namespace,
        target=agent,
        api_group="kagent.dev",
        **{"schedule": "@hourly", "prompt": "write the nightly report", "timeout": "60s", **spec},
    )
    with plane.client() as client:
        path = f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{api.PLURAL}"
        response = client.post(path, json=body)
        assert response.status_code == 201, response.text


def create_job(
    plane: ControlPlane,
    namespace: str,
    name: str,
    scheduled: datetime,
    annotations: Mapping[str, str] | None = None,
) -> str:
    """A suspended Job (nothing runs it) standing for one CronJob tick; returns its uid."""
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {
                api.ANNOTATION_SCHEDULED_TIME: history.format_time(scheduled),
                **(annotations or {}),
            },
        },
        "spec": {**builders.job_spec(), "suspend": True},  # the operator's own Job spec
    }
    with plane.client() as client:
        response = client.post(f"/apis/batch/v1/namespaces/{namespace}/jobs", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["metadata"]["uid"])


def run_history(plane: ControlPlane, namespace: str, name: str) -> list[dict[str, Any]]:
    with plane.client() as client:
        path = f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{api.PLURAL}/{name}"
        response = client.get(path)
        response.raise_for_status()
        return list((response.json().get("status") or {}).get("runHistory") or [])


def start_runner(
    plane: ControlPlane,
    agents: AgentServer,
    namespace: str,
    name: str,
    job: str,
    uid: str,
    protocol: str = "auto",
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    env = plane.env
    for key in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        env.pop(key, None)
    env |= {
        api.ENV_JOB_NAME: job,
        api.ENV_JOB_UID: uid,
        api.ENV_A2A_BASE_URL: agents.base_url,
        api.ENV_A2A_PROTOCOL: protocol,
        **(extra_env or {}),
    }
    return subprocess.Popen(
        [str(SCHEDULEDRUN), "run", "--namespace", namespace, "--name", name],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def kill_at(runner: subprocess.Popen[str], step: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Read the runner's log lines until `step`, then SIGKILL it."""
    assert runner.stderr is not None
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    for line in runner.stderr:
        record = json.loads(line)
        seen.append(record)
        if record["step"] == step:
            os.kill(runner.pid, signal.SIGKILL)
            break
        assert time.monotonic() < deadline, f"no {step!r} step within {timeout}s: {seen}"
    runner.wait(timeout=30)
    assert [r["step"] for r in seen][-1:] == [step], seen
    return seen
