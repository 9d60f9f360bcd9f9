"""Argo CD's health check for ScheduledRuns (charts/kagent-scheduledrun/argocd/health.lua) in a
real Lua interpreter, as Argo CD's own health tests run theirs: a table of objects with the
status and message expected. Most objects were recorded from real runs on the control plane
(tests/unit/argocd_cases.yaml); the named cases below are states that suite does not reach
quickly (not yet judged, a spec edit not yet seen, stopped for good, a run that failed once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.argocd_health import SCRIPT, Health, health

RECORDED = yaml.safe_load(
    (Path(__file__).with_name("argocd_cases.yaml")).read_text(encoding="utf-8")
)


def accepted(**extra: Any) -> dict[str, Any]:
    return {"type": "Accepted", "status": "True", "reason": "ScheduleAccepted", **extra}


def obj(status: dict[str, Any] | None, generation: int = 1, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {"generation": generation}, "spec": spec}
    if status is not None:
        body["status"] = {"observedGeneration": 1, **status}
    return body


def runs(*statuses: str) -> list[dict[str, str]]:
    return [{"id": f"r-{n}", "status": s, "message": f"run {n}"} for n, s in enumerate(statuses)]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["case"]) for c in RECORDED])
def test_recorded_scheduledruns(case: dict[str, Any]) -> None:
    assert health(case["object"]) == Health(**case["expect"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            obj(None),
            Health("Progressing", "Waiting for the operator to judge the spec"),
            id="brand-new-no-status",
        ),
        pytest.param(
            obj({"conditions": [accepted()]}, generation=2),
            Health("Progressing", "Waiting for the operator to judge the spec"),
            id="edit-not-yet-seen",
        ),
        pytest.param(
            obj(
                {
                    "conditions": [
                        accepted(),
                        {
                            "type": "Stopped",
                            "status": "True",
                            "reason": "MaxRunsReached",
                            "message": "3 of 3 runs started",
                        },
                    ],
                    "runHistory": runs("Succeeded"),
                }
            ),
            Health("Suspended", "MaxRunsReached: 3 of 3 runs started"),
            id="stopped",
        ),
        pytest.param(
            obj({"conditions": [accepted()], "runHistory": runs("Failed", "Succeeded")}),
            Health("Healthy", "Last run Failed"),
            id="one-failure-is-not-degraded",
        ),
        pytest.param(
            obj(
                {
                    "conditions": [accepted()],
                    "runHistory": runs("Pending", "Timeout", "DispatchFailed", "Failed"),
                }
            ),
            Health("Degraded", "The last 3 runs failed; newest Timeout: run 1"),
            id="a-new-run-going-after-three-failures",
        ),
        pytest.param(
            obj({"conditions": [accepted()], "runHistory": runs("Pending", "Succeeded")}),
            Health("Healthy", "Last run Succeeded"),
            id="a-run-going-after-a-success",
        ),
    ],
)
def test_named_states(body: dict[str, Any], expected: Health) -> None:
    assert health(body) == expected


def test_the_threshold_is_one_line_to_change() -> None:
    """Platform teams tune FAILED_RUNS in the script they paste into argocd-cm."""
    script = SCRIPT.read_text(encoding="utf-8").replace(
        "local FAILED_RUNS = 3", "local FAILED_RUNS = 1"
    )
    body = obj({"conditions": [accepted()], "runHistory": runs("Failed", "Succeeded")})
    assert health(body, script).status == "Degraded"
