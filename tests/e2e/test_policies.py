"""Scheduling policies across the real CronJob controller's firing: chart installed, operator with
the chart's account, a2a-sdk agents, runner containers on the real node.

Covers: a hashed `H/2` schedule firing only at its own minutes; pause after exactly N failed
ticks (not N-1, not N+1), resume by `scheduledrun resume` with the count starting afresh; no tick
after `endTime`; no tick after `maxRuns`; the previous run's part arriving at the agent as sent.
The four schedules run side by side, so the whole module waits for about four minute boundaries.
Not covered here: every rule's edge (unit tables in test_policies.py, test_runner_limits.py,
test_previous_run.py, test_hashed.py).
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devcluster.cluster import RESTRICTED_LABELS, ControlPlane, eventually
from devcluster.stack import Stack, sr_path
from runner import api, history, previous
from tests.kube_helpers import apply, scheduled_jobs_since, tick_witness

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PROMPT = "Compare today's cluster warnings with the last run."
# The hashed schedule runs in a namespace of a fixed name, so its expansion is a known literal
# (test_hashed.py pins the hashing itself): `H/2` of e2e-spread/spread fires at the odd minutes.
SPREAD_NAMESPACE = "e2e-spread"
SPREAD_SCHEDULE = "1-59/2 * * * *"


@pytest.fixture
def spread_namespace(control_plane: ControlPlane) -> Iterator[str]:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": SPREAD_NAMESPACE, "labels": RESTRICTED_LABELS},
    }
    apply(control_plane, namespace)
    yield SPREAD_NAMESPACE
    control_plane.kubectl("delete", "namespace", SPREAD_NAMESPACE, "--wait=false")


def scheduledrun(name: str, namespace: str, agent: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "schedule": "*/1 * * * *",
            "targetRef": {"kind": "Agent", "name": agent},
            "prompt": PROMPT,
            "timeout": "1m",
            **spec,
        },
    }


def agent(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "Agent",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {},
    }


def get_sr(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    with plane.client() as client:
        found: dict[str, Any] = client.get(sr_path(namespace, name)).raise_for_status().json()
        return found


def status_of(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    return dict(get_sr(plane, namespace, name).get("status") or {})


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    for found in status.get("conditions") or []:
        if found["type"] == type_:
            return dict(found)
    return {}


def scheduled(status: dict[str, Any], terminal: bool = False) -> list[dict[str, Any]]:
    return [
        e
        for e in status.get("runHistory") or []
        if e["trigger"] == "Scheduled" and (not terminal or e["status"] in api.TERMINAL_STATUSES)
    ]


def cronjob_suspended(plane: ControlPlane, namespace: str, name: str) -> bool:
    shown = plane.kubectl(
        "-n", namespace, "get", "cronjob", name, "-o", "jsonpath={.spec.suspend}"
    ).stdout
    return shown == "true"


def next_boundary(after: datetime) -> datetime:
    return after.replace(second=0, microsecond=0) + timedelta(minutes=1)


def cli(plane: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("scheduledrun")), *args],
        env=plane.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_of_two(status: dict[str, Any]) -> dict[str, Any] | None:
    """`status` once the operator has counted exactly one failure of two."""
    message = condition(status, "Paused").get("message")
    return status if message == "1 of 2 consecutive scheduled runs did not succeed" else None


def observe(what: str, probe: Callable[[], Any], timeout: float = 150) -> Any:
    return eventually(what, probe, timeout=timeout, every=1.0)


def test_pause_resume_end_time_and_max_runs_across_real_ticks(
    stack: Stack, control_plane: ControlPlane, namespace: str, spread_namespace: str
) -> None:
    plane = control_plane
    for name in ("fail-pause", "echo-ending", "echo-limited"):
        apply(plane, agent(name, namespace))
    # Every other minute from this object's hashed offset.
    apply(plane, agent("echo-spread", spread_namespace))
    apply(plane, scheduledrun("spread", spread_namespace, "echo-spread", schedule="H/2 * * * *"))
    # The end falls 30 s after the first boundary at least 20 s away: at most two ticks before it.
    end = next_boundary(datetime.now(UTC) + timedelta(seconds=20)) + timedelta(seconds=30)
    apply(plane, scheduledrun("pause", namespace, "fail-pause", pauseAfterFailures=2))
    apply(
        plane,
        scheduledrun("ending", namespace, "echo-ending", endTime=history.format_time(end)),
    )
    apply(plane, scheduledrun("limited", namespace, "echo-limited", maxRuns=2))

    # --- pause: after the first failure (N-1) nothing is held ---------------------------------
    first = observe(
        "the first failed tick", lambda: scheduled(status_of(plane, namespace, "pause"), True)
    )
    assert [e["status"] for e in first] == ["Failed"]
    status = observe(
        "the count at 1 of 2", lambda: one_of_two(status_of(plane, namespace, "pause")), 30
    )
    assert condition(status, "Paused")["status"] == "False", status
    assert not cronjob_suspended(plane, namespace, "pause")
    assert status.get("nextRunTime")

    # --- pause: exactly at the second failure (N) ---------------------------------------------
    def paused() -> dict[str, Any] | None:
        found = status_of(plane, namespace, "pause")
        return found if condition(found, "Paused").get("status") == "True" else None

    status = observe("the pause after the second failure", paused)
    assert len(scheduled(status, True)) == 2
    held = condition(status, "Paused")
    assert held["reason"] == "PausedAfterFailures"
    assert "2 consecutive scheduled runs did not succeed" in held["message"]
    assert "agent failed: tool exploded" in held["message"]
    assert "nextRunTime" not in status
    observe("the CronJob suspended", lambda: cronjob_suspended(plane, namespace, "pause"), 30)
    events = plane.kubectl(
        "-n", namespace, "get", "events", "--field-selector", "reason=PausedAfterFailures"
    ).stdout
    assert "consecutive scheduled runs did not succeed" in events

    # --- end time and max runs, checked while the pause holds -------------------------------
    until_end = (end - datetime.now(UTC)).total_seconds()
    ending = observe(
        "Stopped EndTimeReached",
        lambda: (
            (s := status_of(plane, namespace, "ending"))
            and condition(s, "Stopped").get("reason") == "EndTimeReached"
            and s
        ),
        max(0.0, until_end) + 30,
    )
    assert "nextRunTime" not in ending
    assert cronjob_suspended(plane, namespace, "ending")
    limited = observe(
        "Stopped MaxRunsReached",
        lambda: (
            (s := status_of(plane, namespace, "limited"))
            and condition(s, "Stopped").get("reason") == "MaxRunsReached"
            and s
        ),
    )
    assert (limited["scheduledRuns"], "nextRunTime" in limited) == (2, False)
    assert cronjob_suspended(plane, namespace, "limited")

    # --- no tick after any of them: the CronJob controller has fired the next minute ---------
    minute = tick_witness(plane, namespace)
    for name in ("pause", "ending", "limited"):
        assert scheduled_jobs_since(plane, namespace, name, minute) == [], name
    pause_after = status_of(plane, namespace, "pause")
    assert len(scheduled(pause_after)) == 2, pause_after["runHistory"]  # not N+1
    ending_runs = scheduled(status_of(plane, namespace, "ending"))
    assert ending_runs
    late = [e for e in ending_runs if (history.parse_time(e["scheduledTime"]) or end) > end]
    assert late == [], ending_runs
    limited_after = status_of(plane, namespace, "limited")
    assert len(scheduled(limited_after)) == 2
    assert limited_after["scheduledRuns"] == 2

    # --- the hashed schedule fired only at its own minutes ------------------------------------
    spread_status = status_of(plane, spread_namespace, "spread")
    assert spread_status["effectiveSchedule"] == SPREAD_SCHEDULE
    ticks = [history.parse_time(e["scheduledTime"]) for e in scheduled(spread_status)]
    assert ticks, spread_status
    assert {t.minute % 2 for t in ticks if t is not None} == {1}, ticks

    # --- resume: the CronJob runs again and the count starts afresh ---------------------------
    resumed = cli(plane, "resume", "pause", "-n", namespace)
    assert resumed.returncode == 0, resumed.stderr
    status = observe(
        "the pause lifted",
        lambda: (
            (s := status_of(plane, namespace, "pause"))
            and condition(s, "Paused").get("status") == "False"
            and s
        ),
        30,
    )
    assert status["resumedAt"]
    observe("the CronJob running", lambda: not cronjob_suspended(plane, namespace, "pause"), 30)
    # Compared as instants: run times carry milliseconds, resumedAt whole seconds, and as text
    # "13:57:21.920Z" sorts before "13:57:21Z".
    resumed_at = history.parse_time(status["resumedAt"])
    assert resumed_at is not None, status

    def counted_afresh() -> dict[str, Any] | None:
        """The status once the failures that started after the resume, and only those, are
        the count (and there is at least one)."""
        found = status_of(plane, namespace, "pause")
        after = [
            e
            for e in scheduled(found, True)
            if (history.parse_time(e.get("startTime")) or resumed_at) > resumed_at
        ]
        message = condition(found, "Paused").get("message")
        if len(after) == 1 and message == "1 of 2 consecutive scheduled runs did not succeed":
            return found
        return None

    try:
        status = observe("a failed tick after the resume, counted afresh", counted_afresh)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {status_of(plane, namespace, 'pause')}") from None
    assert condition(status, "Paused")["status"] == "False", status
    assert not cronjob_suspended(plane, namespace, "pause")


def test_previous_run_part_arrives_as_sent(
    stack: Stack, control_plane: ControlPlane, namespace: str
) -> None:
    plane = control_plane
    apply(plane, agent("echo-compare", namespace))
    apply(plane, scheduledrun("compare", namespace, "echo-compare", includePreviousRun=True,
                              suspend=True))  # fmt: skip
    cronjob = observe(
        "the CronJob", lambda: status_of(plane, namespace, "compare").get("cronJobName"), 60
    )

    def finished(job: str) -> bool:
        return any(
            e["id"] == job and e["status"] in api.TERMINAL_STATUSES
            for e in status_of(plane, namespace, "compare").get("runHistory") or []
        )

    for job in ("compare-1", "compare-2"):
        plane.kubectl("-n", namespace, "create", "job", f"--from=cronjob/{cronjob}", job)
        observe(f"{job} finished", functools.partial(finished, job))
    runs = status_of(plane, namespace, "compare")["runHistory"]
    own = history.find(runs, "compare-2")
    assert own is not None
    assert stack.agents is not None
    received = {r.context_id: r for r in stack.agents.received_by("echo-compare")}
    first = received[history.find(runs, "compare-1")["sessionID"]]  # type: ignore[index]
    second = received[own["sessionID"]]
    assert first.parts == (PROMPT, f"{previous.HEADER}\nnone: this is the first recorded run")
    assert second.parts == (PROMPT, previous.context_part(runs, own))
    assert "run: compare-1 (Manual)" in second.parts[1]
    assert "status: Succeeded" in second.parts[1]
    assert second.part_metadata[1] == previous.METADATA
