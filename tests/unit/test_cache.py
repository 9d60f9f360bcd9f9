"""generator.operator.cache: the operator's memory of targets, CronJobs, Jobs and ScheduledRun
lookups, kept from watch events, and forgetting what only the start-up listing saw.

Pure bookkeeping; that the events arrive is tests/integration/test_operator.py's concern.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from generator.operator.cache import ClusterCache
from generator.operator.sweep import JobState
from runner import api
from tests import builders


def scheduledrun(name: str, target: str = "helper", kind: str = "Agent") -> dict[str, Any]:
    return builders.scheduledrun(name, "ns", target=target, kind=kind)


def job(name: str, label: str, failed: str | None = None) -> dict[str, Any]:
    conditions = [{"type": "Failed", "status": "True", "reason": failed}] if failed else []
    return {
        "metadata": {"name": name, "labels": {api.LABEL_SCHEDULEDRUN: label}},
        "status": {"conditions": conditions},
    }


def test_scheduledruns_follow_their_target_across_edits_and_deletion() -> None:
    cache = ClusterCache()
    cache.note_scheduledrun(scheduledrun("a"), present=True)
    cache.note_scheduledrun(scheduledrun("b"), present=True)
    cache.note_scheduledrun(scheduledrun("a", target="other"), present=True)  # edited
    cache.note_scheduledrun(scheduledrun("b"), present=False)  # deleted

    assert cache.scheduledruns_targeting(("ns", "Agent", "helper")) == []
    assert cache.scheduledruns_targeting(("ns", "Agent", "other")) == ["a"]
    assert (cache.scheduledrun_labelled("ns", "a"), cache.scheduledrun_labelled("ns", "b")) == (
        "a",
        None,
    )


def test_long_names_are_found_by_their_hashed_label() -> None:
    from generator.cronjob.render import label_value

    cache = ClusterCache()
    long_name = "x" * 80
    cache.note_scheduledrun(scheduledrun(long_name), present=True)

    assert cache.scheduledrun_labelled("ns", label_value(long_name)) == long_name


def test_jobs_are_kept_per_scheduledrun_until_deleted() -> None:
    cache = ClusterCache()
    cache.note_job("ns", job("a-1", "a"), present=True)
    cache.note_job("ns", job("a-1", "a", failed="DeadlineExceeded"), present=True)
    cache.note_job("ns", job("a-2", "a"), present=True)
    cache.note_job("ns", job("a-2", "a"), present=False)

    assert cache.jobs_of("ns", "a") == {"a-1": JobState("a-1", "DeadlineExceeded")}


def test_cronjob_state_from_its_body() -> None:
    cache = ClusterCache()
    body = {
        "metadata": {
            "name": "a",
            "annotations": {"kagent.dev/spec-hash": "h1"},
            "creationTimestamp": "2026-03-01T00:00:00Z",
        },
        "spec": {"suspend": True},
    }
    cache.note_cronjob("ns", body, present=True)

    state = cache.cronjob("ns", "a")
    assert state is not None
    assert (state.name, state.spec_hash, state.suspended, state.created) == (
        "a",
        "h1",
        True,
        "2026-03-01T00:00:00Z",
    )
    assert state.live is not None
    assert json.loads(state.live) == {
        "metadata": {"annotations": {"kagent.dev/spec-hash": "h1"}},
        "spec": {"suspend": True},
    }


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        pytest.param({"spec": {"suspend": False}}, True, id="spec-edit"),
        pytest.param({"status": {"lastScheduleTime": "2026-03-01T00:05:00Z"}}, False, id="status"),
    ],
)
def test_only_an_edit_of_what_is_rendered_counts_as_a_change(
    edit: dict[str, Any], changed: bool
) -> None:
    cache = ClusterCache()
    body = {"metadata": {"name": "a", "resourceVersion": "5"}, "spec": {"suspend": True}}
    assert cache.note_cronjob("ns", body, present=True)

    later = {**body, "metadata": {"name": "a", "resourceVersion": "6"}, **edit}
    assert cache.note_cronjob("ns", later, present=True) is changed


def test_an_older_version_than_the_known_one_is_ignored() -> None:
    cache = ClusterCache()
    applied = {"metadata": {"name": "a", "resourceVersion": "9"}, "spec": {"schedule": "0 2 * * *"}}
    stale = {"metadata": {"name": "a", "resourceVersion": "8"}, "spec": {"schedule": "* * * * *"}}
    cache.note_cronjob("ns", applied, present=True)

    assert not cache.note_cronjob("ns", stale, present=True)
    state = cache.cronjob("ns", "a")
    assert state is not None
    assert state.live is not None
    assert json.loads(state.live)["spec"]["schedule"] == "0 2 * * *"


@pytest.mark.parametrize(
    ("confirmed", "expected_targets", "expected_affected"),
    [
        pytest.param(True, {("ns", "Agent", "helper")}, [], id="confirmed-by-a-watch-event"),
        pytest.param(False, set(), [("ns", "a")], id="gone-before-the-watch-started"),
    ],
)
def test_what_only_the_startup_listing_saw_is_forgotten(
    confirmed: bool, expected_targets: set[Any], expected_affected: list[Any]
) -> None:
    cache = ClusterCache()
    cache.note_scheduledrun(scheduledrun("a"), present=True)
    cache.note_target("ns", "Agent", "helper", True, listed=True)
    if confirmed:
        cache.note_target("ns", "Agent", "helper", True)

    affected = cache.drop_unconfirmed()

    assert (cache.targets, affected) == (expected_targets, expected_affected)


def test_a_target_event_tells_whether_existence_changed() -> None:
    cache = ClusterCache()
    seen = [
        cache.note_target("ns", "Agent", "a", True),
        cache.note_target("ns", "Agent", "a", True),  # an edit
        cache.note_target("ns", "Agent", "a", False),
        cache.note_target("ns", "Agent", "a", False),
    ]

    assert seen == [True, False, True, False]


def test_a_cronjobs_state_keeps_only_the_labels_and_annotations_the_operator_renders() -> None:
    from generator.cronjob.config import OperatorConfig
    from generator.operator import plan
    from generator.operator.cache import RENDERED_NAMES, cronjob_state
    from runner.conditions import Reason

    sr = builders.scheduledrun("nightly", "ns", uid="u-1", generation=1)
    verdict = plan.Verdict(True, Reason.SCHEDULE_ACCEPTED, "ok")
    desired = plan.desired_cronjob(sr, OperatorConfig(), verdict)
    assert desired is not None
    meta = desired["metadata"]
    assert set(meta["labels"]) | set(meta["annotations"]) <= RENDERED_NAMES  # none unjudged

    edited = json.loads(json.dumps(desired))
    edited["metadata"]["annotations"]["example.com/blob"] = "x" * 250_000
    edited["metadata"]["labels"]["team"] = "intruder"
    state = cronjob_state(edited)
    assert state.live is not None
    assert "example.com/blob" not in state.live
    assert "intruder" not in state.live
    assert len(state.live) < 10_000
    assert state == cronjob_state(desired)  # nothing the drift check reads has changed
