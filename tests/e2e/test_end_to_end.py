"""The whole flow on the real control plane and a real node: the chart installed from the
project's images, the operator as the chart's Deployment (a real pod with its in-cluster
ServiceAccount token), an a2a-sdk agent at kagent's paths, the real CronJob and Job controllers,
runner containers from the runner image.

Covers: a scheduled tick ending `Succeeded` with session id and answer; `kubectl create job
--from=cronjob/...` adding a `Manual` entry; `kubectl logs job/...` showing the runner's JSON
lines; a failing agent giving `Failed` and the runner's exit code 3 failing the Job through the
real podFailurePolicy; `suspend` stopping ticks while `scheduledrun trigger` still runs;
deleting the ScheduledRun removing its CronJob and Jobs. Not covered here: the failure modes of
each part (their own tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devcluster.cluster import ControlPlane, eventually
from devcluster.stack import Stack, sr_path
from runner import api
from tests import builders
from tests.kube_helpers import apply, scheduled_jobs_since, tick_witness

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PROMPT = 'Summarise the cluster\'s "warning" events: {{ all }} of them'


def scheduledrun(name: str, namespace: str, agent: str, **spec: Any) -> dict[str, Any]:
    return builders.scheduledrun(
        name,
        namespace,
        target=agent,
        **{"schedule": "*/1 * * * *", "prompt": PROMPT, "timeout": "2m", **spec},
    )


def agent(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "Agent",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {},
    }


def get_sr(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    with plane.client() as client:
        result: dict[str, Any] = client.get(sr_path(namespace, name)).raise_for_status().json()
        return result


def history(plane: ControlPlane, namespace: str, name: str) -> list[dict[str, Any]]:
    return list((get_sr(plane, namespace, name).get("status") or {}).get("runHistory") or [])


def terminal_entry(
    plane: ControlPlane, namespace: str, name: str, trigger: str, after: set[str]
) -> dict[str, Any] | None:
    """The first terminal entry with this trigger whose id is not in `after`."""
    for entry in history(plane, namespace, name):
        if (
            entry["trigger"] == trigger
            and entry["id"] not in after
            and entry["status"] in api.TERMINAL_STATUSES
        ):
            return entry
    return None


def accepted_cronjob(plane: ControlPlane, namespace: str, name: str) -> str:
    def probe() -> str | None:
        status = get_sr(plane, namespace, name).get("status") or {}
        conditions = {c["type"]: c for c in status.get("conditions") or []}
        if conditions.get("Accepted", {}).get("status") == "True":
            return status.get("cronJobName")
        return None

    return str(eventually(f"{name} accepted with a CronJob", probe, timeout=60))


def job_condition(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any] | None:
    """The Job's Complete or Failed condition, None while it runs."""
    with plane.client() as client:
        job = client.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}").json()
    for condition in job.get("status", {}).get("conditions", []):
        if condition["type"] in ("Complete", "Failed") and condition["status"] == "True":
            return dict(condition)
    return None


def runner_exit_codes(plane: ControlPlane, namespace: str, job: str) -> list[int]:
    """Exit codes of the runner containers of a Job's pods."""
    with plane.client() as client:
        pods = client.get(
            f"/api/v1/namespaces/{namespace}/pods",
            params={"labelSelector": f"batch.kubernetes.io/job-name={job}"},
        ).json()["items"]
    return [
        status["state"]["terminated"]["exitCode"]
        for pod in pods
        for status in pod["status"].get("containerStatuses") or []
        if "terminated" in status["state"]
    ]


def scheduledrun_cli(plane: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("scheduledrun")), *args],
        env=plane.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_scheduled_manual_suspended_failing_and_deleted(
    stack: Stack, control_plane: ControlPlane, namespace: str
) -> None:
    plane = control_plane
    apply(plane, agent("echo-reporter", namespace))
    apply(plane, agent("fail-reporter", namespace))
    apply(plane, scheduledrun("nightly", namespace, "echo-reporter"))
    apply(plane, scheduledrun("broken", namespace, "fail-reporter", suspend=True))
    cronjob = accepted_cronjob(plane, namespace, "nightly")
    broken_cronjob = accepted_cronjob(plane, namespace, "broken")

    # A failing agent, run now through kubectl, ends Failed with the agent's reason.
    plane.kubectl(
        "-n", namespace, "create", "job", f"--from=cronjob/{broken_cronjob}", "broken-now"
    )
    failed = eventually(
        "the failing run",
        lambda: terminal_entry(plane, namespace, "broken", "Manual", set()),
        timeout=120,
    )
    assert (failed["id"], failed["status"]) == ("broken-now", "Failed")
    assert "tool exploded" in failed["message"]
    # The runner exited 3: the Job's podFailurePolicy failed it at once, without a second pod.
    condition = eventually(
        "the failed Job's condition", lambda: job_condition(plane, namespace, "broken-now")
    )
    assert (condition["type"], condition["reason"]) == ("Failed", "PodFailurePolicy")
    assert runner_exit_codes(plane, namespace, "broken-now") == [api.EXIT_FINAL_FAILURE]

    # The real CronJob controller fires the next minute; the runner records the agent's answer.
    scheduled = eventually(
        "a scheduled run",
        lambda: terminal_entry(plane, namespace, "nightly", "Scheduled", set()),
        timeout=150,
    )
    assert scheduled["status"] == "Succeeded", scheduled
    assert scheduled["message"].startswith('echo: Summarise the cluster\'s "warning" events')
    assert scheduled["sessionID"]
    assert scheduled["taskID"]
    assert scheduled["scheduledTime"].endswith(":00Z")
    received = stack.agents.received_by("echo-reporter") if stack.agents else []
    assert [r.text for r in received if r.context_id == scheduled["sessionID"]] == [PROMPT]

    # "Run now" the kubectl way adds a Manual entry.
    plane.kubectl("-n", namespace, "create", "job", f"--from=cronjob/{cronjob}", "nightly-now")
    manual = eventually(
        "the manual run",
        lambda: terminal_entry(plane, namespace, "nightly", "Manual", set()),
        timeout=120,
    )
    assert (manual["id"], manual["status"]) == ("nightly-now", "Succeeded")

    # The runner container's log, served by the kubelet: one JSON object per line.
    # (Seen since the runner and operator changes of 30 Nov: the Job may hold a second pod that
    # is still being created when the entry is recorded; wait until the pod kubectl picks runs.)
    def job_logs() -> str:
        shown = plane.kubectl("-n", namespace, "logs", "job/nightly-now", check=False)
        return shown.stdout if shown.returncode == 0 and shown.stdout.strip() else ""

    logs = eventually("kubectl logs job/nightly-now", job_logs, timeout=120)
    lines = [json.loads(line) for line in logs.splitlines()]
    assert lines, logs
    assert all(isinstance(line, dict) for line in lines)
    assert "nightly-now" in logs

    # Suspended: no more ticks, but `scheduledrun trigger` still runs it.
    plane.kubectl(
        "-n",
        namespace,
        "patch",
        "sr",
        "nightly",
        "--type",
        "merge",
        "-p",
        '{"spec":{"suspend":true}}',
    )
    eventually(
        "the CronJob suspended",
        lambda: (
            plane.kubectl(
                "-n", namespace, "get", "cronjob", cronjob, "-o", "jsonpath={.spec.suspend}"
            ).stdout
            == "true"
        ),
        timeout=60,
    )
    scheduled_before = {
        e["id"] for e in history(plane, namespace, "nightly") if e["trigger"] == "Scheduled"
    }
    triggered = scheduledrun_cli(plane, "trigger", "nightly", "-n", namespace, "--timeout", "120")
    assert triggered.returncode == 0, triggered.stdout + triggered.stderr
    assert "Succeeded" in triggered.stdout
    assert "Manual" in triggered.stdout
    # The next tick has come for a CronJob made now; a suspended one made no Job for it.
    minute = tick_witness(plane, namespace)
    assert scheduled_jobs_since(plane, namespace, "nightly", minute) == []
    scheduled_after = {
        e["id"] for e in history(plane, namespace, "nightly") if e["trigger"] == "Scheduled"
    }
    assert scheduled_after == scheduled_before

    shown = scheduledrun_cli(plane, "history", "nightly", "-n", namespace)
    assert shown.returncode == 0
    assert "nightly-now" in shown.stdout
    upcoming = scheduledrun_cli(plane, "next", "nightly", "--namespace", namespace, "--count", "3")
    assert upcoming.returncode == 0, upcoming.stderr
    assert "suspended" in upcoming.stdout
    assert len([line for line in upcoming.stdout.splitlines() if ":00Z" in line]) == 3
    listed = plane.kubectl("-n", namespace, "get", "sr")
    assert "nightly" in listed.stdout
    assert "Succeeded" in listed.stdout

    # Deleting the ScheduledRun removes its CronJob and Jobs (owner references, real GC).
    plane.kubectl("-n", namespace, "delete", "sr", "nightly", "broken")
    label = f"{api.LABEL_SCHEDULEDRUN}"
    eventually(
        "CronJobs and Jobs garbage-collected",
        lambda: (
            plane.kubectl(
                "-n", namespace, "get", "cronjobs,jobs", "-l", label, "-o", "name"
            ).stdout.strip()
            == ""
        ),
        timeout=90,
    )
