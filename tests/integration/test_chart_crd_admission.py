"""The CRD's CEL rules on the real API server agree with their offline mirror.

tests/unit/test_crd_rules.py evaluates the rules by translating them to Python `re`; this module
sends the same schedules and time zones (its own table and tests/unit/cron_cases.py) to the API
server as dry-run creations and checks that RE2 gives the verdict the mirror gives, and that no
value a CronJob accepts is refused. Not covered: the full admission test matrix (the control
plane's own tests).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devcluster.cluster import ControlPlane
from tests.unit.cron_cases import SCHEDULE_CASES, TIME_ZONE_CASES
from tests.unit.test_crd_rules import SCHEDULES, violations
from tests.unit.test_crd_schema import node_at

pytestmark = pytest.mark.cluster


def admitted(client: httpx.Client, field: str, value: str) -> tuple[bool, str]:
    spec: dict[str, Any] = {
        "schedule": "0 9 * * *",
        "targetRef": {"kind": "Agent", "name": "reporter"},
        "prompt": "hello",
        field: value,
    }
    body = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "ScheduledRun",
        "metadata": {"name": "probe", "namespace": "default"},
        "spec": spec,
    }
    response = client.post(
        "/apis/kagent.dev/v1alpha2/namespaces/default/scheduledruns",
        params={"dryRun": "All"},
        json=body,
    )
    assert response.status_code in (201, 422), response.text
    return response.status_code == 201, response.text


def mirror(field: str, value: str) -> bool:
    node = node_at(f"spec.{field}")
    if not node["minLength"] <= len(value) <= node["maxLength"]:
        return False
    return violations(f"spec.{field}", value) == []


CASES = (
    [("schedule", s, ok) for s, ok in SCHEDULE_CASES]
    + [("schedule", s, ok) for s, ok, _ in SCHEDULES]
    + [("timeZone", z, ok) for z, ok in TIME_ZONE_CASES]
)


def test_server_verdicts_match_the_offline_mirror(control_plane: ControlPlane) -> None:
    disagreements = []
    with control_plane.client() as client:
        for field, value, _ in CASES:
            server, text = admitted(client, field, value)
            if server != mirror(field, value):
                disagreements.append((field, value, server, text[:300]))
    assert disagreements == []


def test_server_never_refuses_what_a_cronjob_accepts(control_plane: ControlPlane) -> None:
    refused = []
    with control_plane.client() as client:
        for field, value, valid in CASES:
            if valid:
                server, text = admitted(client, field, value)
                if not server:
                    refused.append((field, value, text[:300]))
    assert refused == []


def test_server_refuses_a_bad_field_with_the_rule_message(control_plane: ControlPlane) -> None:
    with control_plane.client() as client:
        server, text = admitted(client, "schedule", "* * * * 7")
    assert not server
    assert "the day-of-week field (5th)" in text
