"""generator.operator.slim: what of a ScheduledRun's event is kept until its reconcile, and that
the reconcile decides the same on it as on the whole object."""

from __future__ import annotations

import copy
import sys
from datetime import UTC, datetime
from typing import Any

from generator.cronjob.config import OperatorConfig
from generator.operator import plan, slim
from runner import api
from tests import builders

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


def tenant_object() -> dict[str, Any]:
    """A ScheduledRun as a hostile tenant stores it: large annotations, managed fields."""
    history = [
        {"id": f"nightly-{i}", "status": "Succeeded", "startTime": "2026-03-01T11:00:00Z"}
        for i in range(3)
    ]
    sr = builders.scheduledrun(
        uid="u-1",
        generation=3,
        metadata={
            "resourceVersion": "42",
            "creationTimestamp": "2026-02-01T00:00:00Z",
            "labels": {"team": "a"},
            "annotations": {
                "example.com/blob": "x" * 250_000,
                "kubectl.kubernetes.io/last-applied-configuration": "{" + "y" * 100_000 + "}",
                api.ANNOTATION_RESUME: "2026-03-01T10:00:00Z",
                api.ANNOTATION_CREATED_BY: "alice",
            },
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:x": {}}}] * 200,
        },
        status={"runHistory": history, "scheduledRuns": 3},
    )
    return sr


def test_only_what_the_reconcile_reads_is_kept() -> None:
    sr = tenant_object()
    kept = slim.scheduledrun(sr)
    assert kept["metadata"] == {
        "name": "nightly",
        "namespace": "team-a",
        "uid": "u-1",
        "generation": 3,
        "resourceVersion": "42",
        "creationTimestamp": "2026-02-01T00:00:00Z",
        "annotations": {
            api.ANNOTATION_RESUME: "2026-03-01T10:00:00Z",
            api.ANNOTATION_CREATED_BY: "alice",
        },
    }
    assert kept["spec"] == sr["spec"]
    assert kept["status"] == sr["status"]  # the sweep rewrites runHistory whole
    assert slim.size(kept) < 10_000 < 350_000 < slim.size(sr)


def test_a_project_annotation_longer_than_any_the_project_writes_is_kept_as_a_digest() -> None:
    sr = tenant_object()
    sr["metadata"]["annotations"][api.ANNOTATION_RESUME] = "z" * 200_000
    other = copy.deepcopy(sr)
    other["metadata"]["annotations"][api.ANNOTATION_RESUME] = "z" * 200_001
    kept = slim.scheduledrun(sr)["metadata"]["annotations"][api.ANNOTATION_RESUME]
    assert kept.startswith("sha256:")
    assert len(kept) < 100
    assert kept != slim.scheduledrun(other)["metadata"]["annotations"][api.ANNOTATION_RESUME]


def test_the_plan_is_the_same_for_the_slim_body_and_the_whole_object() -> None:
    sr = tenant_object()
    observed = plan.Observed(now=NOW, target_exists=True, cronjob=None)
    whole = plan.make_plan(sr, OperatorConfig(), observed)
    kept = plan.make_plan(slim.scheduledrun(sr), OperatorConfig(), observed)
    assert kept == whole


def test_size_estimates_the_objects_within_a_factor_of_two() -> None:
    """(Text outside ASCII is counted at its widest, 4 bytes a character: an emoji's size.)"""

    def measured(value: Any) -> int:
        total = sys.getsizeof(value)
        if isinstance(value, dict):
            total += sum(measured(k) + measured(v) for k, v in value.items())
        elif isinstance(value, list):
            total += sum(measured(v) for v in value)
        return total

    for value in (tenant_object(), slim.scheduledrun(tenant_object()), {"a": ["😀" * 1000, 1]}):
        assert measured(value) / 2 <= slim.size(value) <= measured(value) * 2
