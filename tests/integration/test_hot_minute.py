"""The hot-minute warning with the operator process on the real control plane: ScheduledRuns that
fire in a minute shared by more of them than `--hot-minute-capacity` get the `HotMinute` condition
(with the `H` form) and a warning event, the fullest-minute metric counts them, a hashed one is
left alone, and the warning clears when one of them stops firing. The load's arithmetic is
tests/unit/test_load.py's; the plan's condition tests/unit/test_hotminute.py's.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from tests.kube_helpers import create, create_agent, get_sr, patch_spec, scheduledrun

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

HOURLY = ("a", "b", "c")


def hot_minute(sr: dict[str, Any]) -> dict[str, Any] | None:
    for condition in (sr.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "HotMinute":
            return dict(condition)
    return None


def fullest(operator: OperatorProcess) -> float:
    for line in operator.metrics().splitlines():
        if line.startswith("kagent_scheduledrun_fullest_minute_schedules "):
            return float(line.split()[1])
    return -1.0


def test_more_scheduledruns_in_one_minute_than_the_capacity_are_warned(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str
) -> None:
    create_agent(kube, namespace, "helper")
    for name in HOURLY:
        create(kube, namespace, scheduledrun(name, schedule="0 * * * *"))
    create(kube, namespace, scheduledrun("spread", schedule="H(1-59) * * * *"))
    operator = OperatorProcess(
        control_plane, "--namespace", namespace, "--hot-minute-capacity", "2"
    ).start()
    try:

        def all_warned() -> list[dict[str, Any]] | None:
            found = [hot_minute(get_sr(kube, namespace, name)) for name in HOURLY]
            return [c for c in found if c] if all(found) else None

        conditions = eventually("HotMinute on a, b and c", all_warned)
        assert {(c["status"], c["reason"]) for c in conditions} == {("True", "AboveCapacity")}
        assert '"H * * * *" keeps the hour' in conditions[0]["message"]
        assert hot_minute(get_sr(kube, namespace, "spread")) is None
        assert eventually("fullest minute 3", lambda: fullest(operator) == 3)

        events = kube.get(f"/api/v1/namespaces/{namespace}/events").json()["items"]
        warned = [e for e in events if e["reason"] == "AboveCapacity"]
        assert sorted(e["involvedObject"]["name"] for e in warned) == list(HOURLY)
        assert all(e["type"] == "Warning" and " 3 ScheduledRuns fire at " in f" {e['message']}"
                   for e in warned)  # fmt: skip

        # c stops firing: a and b share the minute alone, within the capacity.
        patch_spec(kube, namespace, "c", {"suspend": True})

        def cleared() -> bool:
            return all(hot_minute(get_sr(kube, namespace, name)) is None for name in HOURLY)

        eventually("HotMinute cleared", cleared)
        assert eventually("fullest minute 2", lambda: fullest(operator) == 2)
    finally:
        operator.stop()
