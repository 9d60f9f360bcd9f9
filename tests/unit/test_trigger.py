"""The rule shared by `scheduledrun trigger` and the REST API's trigger: may a manual run start,
and the Job name an Idempotency-Key maps to. Pure; the cluster round trips are in
tests/integration/test_server_api.py."""

from __future__ import annotations

from typing import Any

import pytest

from generator.spec.trigger import (
    CONCURRENCY_FORBIDDEN,
    NO_CRONJOB,
    NOT_ACCEPTED,
    active_jobs,
    caller_trace,
    decide_trigger,
    earlier_run,
    idempotency_digest,
    idempotent_job_name,
    run_name,
)
from runner import api
from tests import builders


def scheduledrun(
    accepted: str | None = "True", policy: str | None = None, cronjob: str | None = "nightly"
) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if cronjob:
        status["cronJobName"] = cronjob
    if accepted is not None:
        status["conditions"] = [
            {"type": "Accepted", "status": accepted, "reason": "TargetNotFound", "message": "x"}
        ]
    spec: dict[str, Any] = {} if policy is None else {"concurrencyPolicy": policy}
    return builders.scheduledrun(status=status, **spec)


@pytest.mark.parametrize(
    ("sr", "active", "force", "allowed", "reason", "replace"),
    [
        pytest.param(scheduledrun(), [], False, True, "", (), id="accepted, idle"),
        pytest.param(scheduledrun(cronjob=None), [], True, False, NO_CRONJOB, (), id="no cronjob"),
        pytest.param(scheduledrun("False"), [], False, False, NOT_ACCEPTED, (), id="not accepted"),
        pytest.param(scheduledrun(None), [], False, False, NOT_ACCEPTED, (), id="never judged"),
        pytest.param(scheduledrun("False"), [], True, True, "", (), id="not accepted, forced"),
        pytest.param(
            scheduledrun(), ["j1"], False, False, CONCURRENCY_FORBIDDEN, (), id="default forbid"
        ),
        pytest.param(
            scheduledrun(policy="Forbid"), ["j1"], True, True, "", (), id="forbid, forced"
        ),
        pytest.param(scheduledrun(policy="Allow"), ["j1"], False, True, "", (), id="allow"),
        pytest.param(
            scheduledrun(policy="Replace"),
            ["j2", "j1"],
            False,
            True,
            "",
            ("j1", "j2"),
            id="replace",
        ),
    ],
)
def test_decide_trigger(
    sr: dict[str, Any],
    active: list[str],
    force: bool,
    allowed: bool,
    reason: str,
    replace: tuple[str, ...],
) -> None:
    decision = decide_trigger(sr, active, force=force)
    assert (decision.allowed, decision.reason, decision.replace) == (allowed, reason, replace)


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        pytest.param("Succeeded", True, id="recorded as ended: its pod is only exiting"),
        pytest.param("Pending", False, id="still running"),
    ],
)
def test_a_job_whose_run_is_recorded_as_ended_does_not_block_forbid(
    status: str, allowed: bool
) -> None:
    sr = scheduledrun()
    sr["status"]["runHistory"] = [{"id": "nightly-now", "status": status}]
    assert decide_trigger(sr, ["nightly-now"]).allowed is allowed


def test_a_forbidden_trigger_names_the_active_job() -> None:
    assert "nightly-28000" in decide_trigger(scheduledrun(), ["nightly-28000"]).message


def job(name: str, owner: str, condition: str | None = None) -> dict[str, Any]:
    status = {"conditions": [{"type": condition, "status": "True"}]} if condition else {}
    return {"metadata": {"name": name, "ownerReferences": [{"uid": owner}]}, "status": status}


def test_active_jobs_are_the_cronjobs_unfinished_ones() -> None:
    jobs = [
        job("running", "cj"),
        job("done", "cj", "Complete"),
        job("failed", "cj", "Failed"),
        job("foreign", "other"),
    ]
    assert active_jobs(jobs, "cj") == ["running"]


def test_idempotent_job_name_depends_on_key_and_object() -> None:
    first = idempotent_job_name("nightly", "uid-1", "key-a")
    assert first == idempotent_job_name("nightly", "uid-1", "key-a")
    assert first.startswith("nightly-manual-")
    others = {
        idempotent_job_name("nightly", "uid-1", "key-b"),
        idempotent_job_name("nightly", "uid-2", "key-a"),
    }
    assert first not in others
    assert len(idempotent_job_name("x" * 60, "u", "k")) <= 63


def cronjob() -> dict[str, Any]:
    return {"metadata": {"name": "nightly", "uid": "cj"}}


@pytest.mark.parametrize(
    ("policy", "force", "key", "same_for_two"),
    [
        pytest.param("Forbid", False, None, True, id="forbid: racing triggers collide"),
        pytest.param("Forbid", True, None, False, id="forbid, forced: random"),
        pytest.param("Allow", False, "k", True, id="allow, one key: collide"),
        pytest.param("Allow", False, None, False, id="allow, no key: random"),
    ],
)
def test_run_names_that_settle_races(
    policy: str, force: bool, key: str | None, same_for_two: bool
) -> None:
    sr = scheduledrun(policy=policy) | {"metadata": {"name": "nightly", "uid": "sr"}}
    jobs = [job("nightly-28000", "cj", "Complete")]
    first = run_name(sr, cronjob(), jobs, force, key, "aaaaaa")
    second = run_name(sr, cronjob(), jobs, force, key, "bbbbbb")
    assert (first == second) is same_for_two
    assert first.startswith("nightly-manual-")


def test_forbid_names_change_once_a_run_exists() -> None:
    sr = scheduledrun() | {"metadata": {"name": "nightly", "uid": "sr"}}
    before = run_name(sr, cronjob(), [], False, None, "x")
    after = run_name(sr, cronjob(), [job(before, "cj", "Complete")], False, None, "x")
    assert before != after


def test_earlier_run_finds_the_keys_job_among_the_cronjobs() -> None:
    mine = job("nightly-manual-1", "cj")
    mine["metadata"]["annotations"] = {api.ANNOTATION_IDEMPOTENCY_KEY: idempotency_digest("k")}
    foreign = job("other", "elsewhere")
    foreign["metadata"]["annotations"] = dict(mine["metadata"]["annotations"])
    assert earlier_run([foreign, mine], "cj", "k") is mine
    assert earlier_run([foreign, mine], "cj", "other-key") is None


@pytest.mark.parametrize(
    ("traceparent", "annotations"),
    [
        pytest.param(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            {"kagent.dev/traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
            id="valid",
        ),
        pytest.param("00-zz-00f067aa0ba902b7-01", {}, id="invalid-starts-its-own"),
        pytest.param(None, {}, id="none"),
    ],
)
def test_a_manual_run_joins_its_callers_trace(
    traceparent: str | None, annotations: dict[str, str]
) -> None:
    assert caller_trace(traceparent) == annotations
