"""The ScheduledRun CRD file, read offline: names, structure, defaults, enums, bounds, columns.

Covers what `kubectl explain` and admission rely on without a server: every schema node is
documented, the API's defaults/enums/bounds are there, the schema is structural (every node
typed). The CEL rules are covered in test_crd_rules.py; whether the API server compiles them is
checked on the real control plane (tests/integration).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import api

CHART_DIR = Path(__file__).resolve().parents[2] / "charts/kagent-scheduledrun"
CRD_PATH = CHART_DIR / "crds/scheduledruns.yaml"


def load_crd() -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(CRD_PATH.read_text(encoding="utf-8")) if d]
    assert len(docs) == 1, "the CRD file holds exactly one document"
    crd: dict[str, Any] = docs[0]
    return crd


CRD = load_crd()
VERSION = CRD["spec"]["versions"][0]
ROOT = VERSION["schema"]["openAPIV3Schema"]
SPEC = ROOT["properties"]["spec"]
STATUS = ROOT["properties"]["status"]


def walk(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield every schema node below `node` with a dotted path (items as `[]`)."""
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")


def node_at(path: str) -> dict[str, Any]:
    node: dict[str, Any] = ROOT
    for part in path.split("."):
        node = node["items"] if part == "[]" else node["properties"][part]
    return node


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        pytest.param("group", api.GROUP, id="group"),
        pytest.param("scope", "Namespaced", id="namespaced"),
        pytest.param("names.kind", api.KIND, id="kind"),
        pytest.param("names.plural", api.PLURAL, id="plural"),
        pytest.param("names.singular", "scheduledrun", id="singular"),
        pytest.param("names.shortNames", ["sr"], id="short-name"),
        pytest.param("names.categories", ["kagent"], id="category"),
    ],
)
def test_crd_names(field: str, expected: object) -> None:
    value: Any = CRD["spec"]
    for part in field.split("."):
        value = value[part]
    assert value == expected


def test_crd_metadata_name_is_plural_dot_group() -> None:
    assert CRD["metadata"]["name"] == f"{api.PLURAL}.{api.GROUP}"


def test_single_version_served_and_stored_with_status_subresource() -> None:
    assert [v["name"] for v in CRD["spec"]["versions"]] == [api.VERSION]
    assert VERSION["served"] is True
    assert VERSION["storage"] is True
    assert VERSION["subresources"] == {"status": {}}


def test_every_schema_node_is_typed_and_described() -> None:
    missing = [
        path
        for path, node in walk(ROOT, "")
        if path not in {".metadata"} and not (node.get("type") and node.get("description"))
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("path", "default"),
    [
        pytest.param("spec.timeZone", "UTC", id="timeZone"),
        pytest.param("spec.targetRef.apiGroup", "kagent.dev", id="apiGroup"),
        pytest.param("spec.suspend", False, id="suspend"),
        pytest.param("spec.concurrencyPolicy", "Forbid", id="concurrencyPolicy"),
        pytest.param("spec.timeout", "15m", id="timeout"),
        pytest.param("spec.maxRunHistory", 10, id="maxRunHistory"),
    ],
)
def test_defaults(path: str, default: object) -> None:
    assert node_at(path)["default"] == default


@pytest.mark.parametrize(
    ("path", "enum"),
    [
        pytest.param("spec.targetRef.apiGroup", ["kagent.dev"], id="apiGroup"),
        pytest.param("spec.targetRef.kind", ["Agent", "SandboxAgent"], id="kind"),
        pytest.param("spec.concurrencyPolicy", ["Allow", "Forbid", "Replace"], id="concurrency"),
        pytest.param("status.runHistory.[].trigger", ["Scheduled", "Manual"], id="trigger"),
        pytest.param(
            "status.runHistory.[].status",
            ["Pending", "Succeeded", "Failed", "Timeout", "DispatchFailed"],
            id="run-status",
        ),
        pytest.param(
            "status.lastRunStatus",
            ["Pending", "Succeeded", "Failed", "Timeout", "DispatchFailed"],
            id="last-run-status",
        ),
        pytest.param("status.conditions.[].status", ["True", "False", "Unknown"], id="cond"),
    ],
)
def test_enums(path: str, enum: list[str]) -> None:
    assert node_at(path)["enum"] == enum


def test_run_statuses_match_the_shared_names() -> None:
    enum = set(node_at("status.runHistory.[].status")["enum"])
    assert api.TERMINAL_STATUSES | {"Pending"} == enum


@pytest.mark.parametrize(
    ("path", "bounds"),
    [
        pytest.param("spec.prompt", {"minLength": 1, "maxLength": 32768}, id="prompt"),
        pytest.param("spec.maxRunHistory", {"minimum": 1, "maximum": 100}, id="maxRunHistory"),
        pytest.param("spec.startingDeadlineSeconds", {"minimum": 10}, id="startingDeadline"),
        pytest.param("spec.schedule", {"minLength": 1, "maxLength": 256}, id="schedule"),
        pytest.param(
            "status.runHistory.[].message", {"maxLength": api.MESSAGE_MAX_CHARS}, id="message"
        ),
        pytest.param("status.runHistory", {"maxItems": 100}, id="history-items"),
    ],
)
def test_bounds(path: str, bounds: dict[str, int]) -> None:
    node = node_at(path)
    assert {key: node.get(key) for key in bounds} == bounds


def test_required_fields() -> None:
    assert ROOT["required"] == ["spec"]
    assert set(SPEC["required"]) == {"schedule", "targetRef", "prompt"}
    assert set(node_at("spec.targetRef")["required"]) == {"kind", "name"}


def test_target_ref_namespace_is_declared_only_to_be_refused() -> None:
    target = node_at("spec.targetRef")
    assert set(target["properties"]) == {"apiGroup", "kind", "name", "namespace"}
    assert "namespace" in target["description"]
    [rule] = target["x-kubernetes-validations"]
    assert rule["rule"] == "!has(self.__namespace__)"
    assert "own namespace" in rule["message"]
    assert "x-kubernetes-preserve-unknown-fields" not in target


def test_status_covers_the_design_fields() -> None:
    assert set(STATUS["properties"]) == {
        "missedRuns",
        "lastMissedTime",
        "lastMissedReason",
        "observedGeneration",
        "conditions",
        "cronJobName",
        "effectiveSchedule",
        "scheduledRuns",
        "resumedAt",
        "suspended",
        "lastRunTime",
        "nextRunTime",
        "lastRunStatus",
        "lastDelivery",
        "runHistory",
    }
    entry = node_at("status.runHistory.[]")
    assert set(entry["properties"]) == {
        "id",
        "trigger",
        "scheduledTime",
        "startTime",
        "endTime",
        "sessionID",
        "taskID",
        "dispatchSeconds",
        "traceID",
        "status",
        "message",
        "delivery",
    }


@pytest.mark.parametrize(
    ("path", "key"),
    [
        pytest.param("status.conditions", "type", id="conditions"),
        pytest.param("status.runHistory", "id", id="runHistory"),
    ],
)
def test_lists_are_maps_keyed_by_a_required_field(path: str, key: str) -> None:
    node = node_at(path)
    assert node["x-kubernetes-list-type"] == "map"
    assert node["x-kubernetes-list-map-keys"] == [key]
    assert key in node["items"]["required"]


def test_condition_items_have_the_metav1_condition_shape() -> None:
    item = node_at("status.conditions.[]")
    assert set(item["required"]) == {"type", "status", "lastTransitionTime", "reason", "message"}
    assert item["properties"]["lastTransitionTime"]["format"] == "date-time"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=p)
        for p in [
            "status.lastRunTime",
            "status.nextRunTime",
            "status.runHistory.[].scheduledTime",
            "status.runHistory.[].startTime",
            "status.runHistory.[].endTime",
        ]
    ],
)
def test_times_are_rfc3339(path: str) -> None:
    assert node_at(path) == node_at(path) | {"type": "string", "format": "date-time"}


def test_every_string_under_a_cel_rule_is_length_bounded() -> None:
    # The API server estimates a rule's cost from the string's maxLength; unbounded strings
    # can push a rule over the cost limit and the CRD is then rejected.
    unbounded = [
        path
        for path, node in walk(ROOT, "")
        if node.get("x-kubernetes-validations") and node.get("type") == "string"
        if "maxLength" not in node
    ]
    assert unbounded == []


def test_every_cel_rule_has_a_message() -> None:
    rules = [
        (path, rule)
        for path, node in walk(ROOT, "")
        for rule in node.get("x-kubernetes-validations", [])
    ]
    assert rules, "the CRD carries CEL rules"
    assert [path for path, rule in rules if not rule.get("message", "").strip()] == []


@pytest.mark.parametrize(
    ("name", "json_path", "column_type"),
    [
        pytest.param("Schedule", ".spec.schedule", "string", id="schedule"),
        pytest.param(
            "Accepted",
            '.status.conditions[?(@.type=="Accepted")].status',
            "string",
            id="accepted",
        ),
        pytest.param(
            "Reason", '.status.conditions[?(@.type=="Accepted")].reason', "string", id="reason"
        ),
        # The suspension in effect (the CronJob's), not only spec.suspend.
        pytest.param("Suspended", ".status.suspended", "boolean", id="suspended"),
        pytest.param("Last Status", ".status.lastRunStatus", "string", id="last-status"),
        pytest.param("Last Run", ".status.lastRunTime", "date", id="last-run"),
        # Runs that never happened (the CronJob controller skipped them) show next to the last.
        pytest.param("Missed", ".status.missedRuns", "integer", id="missed"),
        # A future time as `date` prints "<invalid>", so the next run is a plain string.
        pytest.param("Next Run", ".status.nextRunTime", "string", id="next-run"),
        pytest.param("Age", ".metadata.creationTimestamp", "date", id="age"),
    ],
)
def test_default_printer_columns(name: str, json_path: str, column_type: str) -> None:
    columns = {c["name"]: c for c in VERSION["additionalPrinterColumns"]}
    assert columns[name]["jsonPath"] == json_path
    assert columns[name]["type"] == column_type
    assert columns[name].get("priority", 0) == 0


def test_default_columns_answer_whether_the_schedule_works_first() -> None:
    shown = [c["name"] for c in VERSION["additionalPrinterColumns"] if not c.get("priority")]
    assert shown == [
        "Schedule",
        "Accepted",
        "Reason",
        "Suspended",
        "Last Status",
        "Last Run",
        "Missed",
        "Next Run",
        "Age",
    ]


def test_wide_columns_name_the_target_and_the_cronjob() -> None:
    wide = {
        c["name"]: c["jsonPath"] for c in VERSION["additionalPrinterColumns"] if c.get("priority")
    }
    assert wide == {
        "Effective Schedule": ".status.effectiveSchedule",
        "Time Zone": ".spec.timeZone",
        "Target": ".spec.targetRef.name",
        "Kind": ".spec.targetRef.kind",
        "CronJob": ".status.cronJobName",
        "Delivery": ".status.lastDelivery",
    }


def test_history_ids_are_job_names_as_the_runner_and_operator_read_them() -> None:
    """The id pattern and length at admission are the ones generator/operator/sweep.py checks before
    an id goes near a URL (runner/api.py holds them)."""
    entry_id = STATUS["properties"]["runHistory"]["items"]["properties"]["id"]
    assert (entry_id["pattern"], entry_id["maxLength"]) == (api.NAME_PATTERN, api.JOB_NAME_MAX)
