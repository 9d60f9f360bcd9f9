"""The condition types and reasons (runner/conditions.py) against the CRD and the REST API.

The CRD's printer columns select the Accepted condition by its type, and its description of
`status.conditions` names every reason (`kubectl explain` is where an operator looks them up);
the OpenAPI document hands the same lists to clients such as the web UI. Not covered: which
reason a given spec gets (test_validate.py, test_plan.py, test_policies.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import api
from runner.conditions import MESSAGE_MAX, REASONS_OF, SPEC_REASONS, ConditionType, Reason
from server.openapi import SCHEMAS

CRD_PATH = (
    Path(__file__).resolve().parents[2] / "charts/kagent-scheduledrun/crds/scheduledruns.yaml"
)
CRD: dict[str, Any] = yaml.safe_load(CRD_PATH.read_text(encoding="utf-8"))
VERSION = CRD["spec"]["versions"][0]
CONDITIONS = VERSION["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"][
    "conditions"
]
# A CamelCase word of two humps or more: how a reason or a kind reads in a description.
CAMEL = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]*)+\b")


def test_kagent_calls_an_accepted_schedule_schedule_accepted() -> None:
    assert (ConditionType.ACCEPTED, Reason.SCHEDULE_ACCEPTED) == ("Accepted", "ScheduleAccepted")


def test_every_reason_belongs_to_exactly_one_condition_type() -> None:
    owned = [reason for reasons in REASONS_OF.values() for reason in reasons]
    assert sorted(owned) == sorted(Reason)
    assert set(REASONS_OF) == set(ConditionType)


def test_spec_reasons_are_reasons_of_accepted() -> None:
    assert {
        "InvalidSchedule",
        "InvalidTimeZone",
        "InvalidTargetRef",
        "InvalidSpec",
    } == SPEC_REASONS
    assert set(REASONS_OF[ConditionType.ACCEPTED]) >= SPEC_REASONS


def test_the_crd_describes_every_reason_and_no_other() -> None:
    named = set(CAMEL.findall(CONDITIONS["description"])) - {api.KIND} - set(ConditionType)
    assert named == set(Reason)


@pytest.mark.parametrize("type_", list(ConditionType), ids=str)
def test_the_crd_describes_every_condition_type(type_: ConditionType) -> None:
    assert f'"{type_}"' in CONDITIONS["description"]


def test_every_type_and_reason_fits_the_crd_patterns() -> None:
    item = CONDITIONS["items"]["properties"]
    type_pattern = re.compile(item["type"]["pattern"])
    reason_pattern = re.compile(item["reason"]["pattern"])
    assert [t for t in ConditionType if not type_pattern.fullmatch(t)] == []
    assert [r for r in Reason if not reason_pattern.fullmatch(r)] == []


def test_a_message_the_operator_writes_fits_the_crd() -> None:
    assert MESSAGE_MAX == 512 <= CONDITIONS["items"]["properties"]["message"]["maxLength"]


@pytest.mark.parametrize(
    ("column", "json_path"),
    [
        pytest.param("Accepted", '.status.conditions[?(@.type=="Accepted")].status', id="status"),
        pytest.param("Reason", '.status.conditions[?(@.type=="Accepted")].reason', id="reason"),
    ],
)
def test_the_printer_columns_select_the_accepted_condition(column: str, json_path: str) -> None:
    columns = {c["name"]: c["jsonPath"] for c in VERSION["additionalPrinterColumns"]}
    assert columns[column] == json_path.replace("Accepted", str(ConditionType.ACCEPTED))


def test_the_openapi_document_lists_them_for_clients() -> None:
    assert SCHEMAS["ConditionType"]["enum"] == ["Accepted", "Paused", "Stopped", "HotMinute"]
    assert SCHEMAS["ConditionReason"]["enum"] == [str(r) for r in Reason]
    assert SCHEMAS["ConditionReason"]["x-reasons-of"]["Paused"] == [
        "PausedAfterFailures",
        "BelowThreshold",
    ]
