"""Argo CD's health check (charts/kagent-scheduledrun/argocd/health.lua, run by a real Lua
interpreter) on ScheduledRuns as the real operator and real runs leave them on the control plane:
accepted with no run, not accepted, suspended, a first run still going, a run that succeeded,
three failed runs, paused after failures, and a schedule that never fires.

The runs are real: `scheduledrun run` as a process for a real (suspended) Job, against the
a2a-sdk test agents; the operator runs as its own process and writes the conditions. With
SCHEDULEDRUN_RECORD_HEALTH_CASES=<file> the objects judged are written there (the unit table in
tests/unit/argocd_cases.yaml was recorded so).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from devcluster.agents import AgentServer, running
from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from tests.argocd_health import Health, health
from tests.kube_helpers import accepted, create, create_agent, get_sr, scheduledrun
from tests.runner_process import create_job, run_history, start_runner

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RECORD = os.environ.get("SCHEDULEDRUN_RECORD_HEALTH_CASES")


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


def judged(plane: ControlPlane, kube: httpx.Client, namespace: str, name: str) -> dict[str, Any]:
    """The ScheduledRun once the operator has acted on its current generation and history."""

    def probe() -> dict[str, Any] | None:
        sr = get_sr(kube, namespace, name)
        status = sr.get("status") or {}
        newest = (status.get("runHistory") or [{}])[0].get("status")
        settled = status.get("lastRunStatus") == newest
        seen = status.get("observedGeneration") == sr["metadata"]["generation"]
        return sr if accepted(sr) and seen and settled else None

    found: dict[str, Any] = eventually(f"{name} judged", probe)
    return found


def run_once(plane: ControlPlane, agents: AgentServer, namespace: str, name: str, n: int) -> None:
    """One real run of `name`: a Job for tick n, the runner to its end."""
    job = f"{name}-{n}"
    uid = create_job(plane, namespace, job, T0 + timedelta(minutes=n))
    runner = start_runner(plane, agents, namespace, name, job, uid)
    runner.wait(timeout=120)


cases: list[tuple[str, dict[str, Any], Health]] = []


def judge(name: str, sr: dict[str, Any]) -> Health:
    found = health(sr)
    cases.append((name, sr, found))
    return found


@pytest.fixture(scope="module", autouse=True)
def record() -> Iterator[None]:
    yield
    if RECORD:
        keep = ("generation",)
        rows = [
            {
                "case": name,
                "expect": {"status": found.status, "message": found.message},
                "object": {
                    "metadata": {k: sr["metadata"][k] for k in keep},
                    "spec": sr["spec"],
                    "status": sr.get("status") or {},
                },
            }
            for name, sr, found in cases
        ]
        Path(RECORD).write_text(yaml.safe_dump(rows, sort_keys=False), encoding="utf-8")


def test_health_of_live_scheduledruns(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
    agents: AgentServer,
) -> None:
    for agent in ("echo-ok", "fail-often", "gate-first", "fail-pause"):
        create_agent(kube, namespace, agent)
    create(kube, namespace, scheduledrun("fresh", target="echo-ok"))
    create(kube, namespace, scheduledrun("missing", target="absent"))
    create(kube, namespace, scheduledrun("off", target="echo-ok", suspend=True))
    create(kube, namespace, scheduledrun("never", target="echo-ok", schedule="0 0 30 2 *"))
    create(kube, namespace, scheduledrun("ok", target="echo-ok"))
    create(kube, namespace, scheduledrun("failing", target="fail-often"))
    create(kube, namespace, scheduledrun("first", target="gate-first"))
    create(kube, namespace, scheduledrun("paused", target="fail-pause", pauseAfterFailures=2))

    fresh = judge("accepted, no run yet", judged(control_plane, kube, namespace, "fresh"))
    assert fresh == Health("Healthy", "No run has ended yet")
    missing = judge("target not found", judged(control_plane, kube, namespace, "missing"))
    assert missing.status == "Degraded"
    assert missing.message.startswith("TargetNotFound: ")
    assert judge("suspended", judged(control_plane, kube, namespace, "off")) == Health(
        "Suspended", "spec.suspend is true"
    )
    never = judge("schedule never fires", judged(control_plane, kube, namespace, "never"))
    assert never.status == "Healthy"
    assert "ScheduleNeverFires" in never.message

    run_once(control_plane, agents, namespace, "ok", 1)
    assert judge("one run succeeded", judged(control_plane, kube, namespace, "ok")) == Health(
        "Healthy", "Last run Succeeded"
    )

    for n in (1, 2):
        run_once(control_plane, agents, namespace, "failing", n)
        assert health(judged(control_plane, kube, namespace, "failing")).status == "Healthy"
    run_once(control_plane, agents, namespace, "failing", 3)
    failing = judge("three runs failed", judged(control_plane, kube, namespace, "failing"))
    assert failing == Health(
        "Degraded",
        "The last 3 runs failed; newest Failed: task failed: agent failed: tool exploded",
    )

    job = "first-1"
    uid = create_job(control_plane, namespace, job, T0)
    runner = start_runner(control_plane, agents, namespace, "first", job, uid)
    try:
        eventually(
            "first run Pending",
            lambda: [e for e in run_history(control_plane, namespace, "first")],
        )
        pending = judge("first run in progress", judged(control_plane, kube, namespace, "first"))
        assert pending == Health("Progressing", "The first run is in progress")
    finally:
        agents.release("gate-first")
        runner.wait(timeout=120)

    for n in (1, 2):
        run_once(control_plane, agents, namespace, "paused", n)

    def paused_condition() -> dict[str, Any] | None:
        sr = get_sr(kube, namespace, "paused")
        conditions = (sr.get("status") or {}).get("conditions") or []
        return (
            sr if any(c["type"] == "Paused" and c["status"] == "True" for c in conditions) else None
        )

    paused = judge("paused after failures", eventually("paused", paused_condition))
    assert paused.status == "Suspended"
    assert paused.message.startswith("PausedAfterFailures: ")
