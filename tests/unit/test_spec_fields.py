"""The spec's fields and defaults (runner/spec_fields.py) against the CRD, which sets them at
admission; and the accessors, which give a field's default where the API server has not.

Not covered: whether the API server applies the defaults (tests/integration/test_admission.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import spec_fields

CRD_PATH = (
    Path(__file__).resolve().parents[2] / "charts/kagent-scheduledrun/crds/scheduledruns.yaml"
)
CRD: dict[str, Any] = yaml.safe_load(CRD_PATH.read_text(encoding="utf-8"))
SPEC = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_the_fields_are_the_crds_in_its_order() -> None:
    assert tuple(SPEC["properties"]) == spec_fields.SPEC_FIELDS


def test_the_target_ref_fields_are_the_crds_but_the_refused_namespace() -> None:
    declared = tuple(SPEC["properties"]["targetRef"]["properties"])
    assert tuple(f for f in declared if f != "namespace") == spec_fields.TARGET_REF_FIELDS


def test_the_defaults_are_the_crds() -> None:
    crd_defaults = {
        name: node["default"] for name, node in SPEC["properties"].items() if "default" in node
    }
    assert crd_defaults == spec_fields.DEFAULTS


def test_the_concurrency_policies_are_the_crds_enum() -> None:
    assert (
        tuple(SPEC["properties"]["concurrencyPolicy"]["enum"]) == spec_fields.CONCURRENCY_POLICIES
    )


def test_the_cel_rule_on_pause_after_failures_assumes_the_same_history_default() -> None:
    [rule] = SPEC["x-kubernetes-validations"]
    assert f": {spec_fields.DEFAULT_MAX_RUN_HISTORY})" in " ".join(rule["rule"].split())


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        pytest.param(spec_fields.time_zone, "UTC", id="timeZone"),
        pytest.param(spec_fields.suspend, False, id="suspend"),
        pytest.param(spec_fields.concurrency_policy, "Forbid", id="concurrencyPolicy"),
        pytest.param(spec_fields.timeout, "15m", id="timeout"),
        pytest.param(spec_fields.max_run_history, 10, id="maxRunHistory"),
        pytest.param(spec_fields.include_previous_run, False, id="includePreviousRun"),
        pytest.param(spec_fields.prompt_variables, False, id="promptVariables"),
    ],
)
def test_an_absent_field_reads_as_its_default(read: Any, expected: object) -> None:
    assert read({}) == expected


@pytest.mark.parametrize(
    ("read", "spec", "expected"),
    [
        pytest.param(
            spec_fields.time_zone, {"timeZone": "Europe/Berlin"}, "Europe/Berlin", id="tz"
        ),
        pytest.param(spec_fields.suspend, {"suspend": True}, True, id="suspend"),
        pytest.param(
            spec_fields.concurrency_policy, {"concurrencyPolicy": "Replace"}, "Replace", id="cp"
        ),
        pytest.param(spec_fields.timeout, {"timeout": "1h"}, "1h", id="timeout"),
        pytest.param(spec_fields.max_run_history, {"maxRunHistory": 3}, 3, id="history"),
        pytest.param(
            spec_fields.include_previous_run, {"includePreviousRun": True}, True, id="previous"
        ),
    ],
)
def test_a_set_field_reads_as_set(read: Any, spec: dict[str, Any], expected: object) -> None:
    assert read(spec) == expected
