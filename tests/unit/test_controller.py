"""generator.operator.controller: carrying out a plan through the API client, with
`generator.operator.kube.Kube` replaced by a recording fake (the one module that makes API calls)
and a `ClusterCache` filled by hand. Covers: the calls a new object costs, none when nothing
changed, retries after an API error, and the orphan sweep's optimistic concurrency. Real kopf and a
real apiserver are tests/integration/test_operator.py's."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
import pytest
from kopf._core.actions import loggers as kopf_loggers

from generator.cronjob import render
from generator.cronjob.config import OperatorConfig
from generator.operator import plan as plan_module
from generator.operator import sweep
from generator.operator.cache import ClusterCache
from generator.operator.controller import Controller, Options
from generator.operator.kube import Conflict, RunnerAccessConflict
from generator.operator.metrics import Metrics, RunCounter
from runner import api
from runner.kube import KubeError
from tests import builders

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


class FakeKube:
    """Records every call; `objects` holds ScheduledRuns by (namespace, name)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.fail_next: list[KubeError] = []
        self.jobs: set[str] = set()
        self.cronjobs: dict[str, dict[str, Any]] = {}  # by name, in the one namespace
        # The deletions each watch by name reports (`deleted` puts one), and the names watched.
        self.deletions: dict[str, asyncio.Queue[None]] = {}
        self.watching: list[str] = []

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    async def get_scheduledrun(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append(("get", name))
        found = self.objects.get((namespace, name))
        return copy.deepcopy(found) if found else None

    async def patch_status(
        self, namespace: str, name: str, patch: dict[str, Any]
    ) -> dict[str, Any] | None:
        self._maybe_fail()
        self.calls.append(("patch_status", patch))
        current = self.objects.get((namespace, name))
        if current is None:
            return None
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "changed")
        current.setdefault("status", {}).update(patch["status"])
        current["metadata"]["resourceVersion"] = str(
            int(current["metadata"]["resourceVersion"]) + 1
        )
        return copy.deepcopy(current)

    async def create_cronjob(self, body: dict[str, Any]) -> dict[str, Any] | None:
        self._maybe_fail()
        self.calls.append(("create_cronjob", body["spec"]["suspend"]))
        name = body["metadata"]["name"]
        if name in self.cronjobs:
            return None
        self.cronjobs[name] = {**body, "metadata": {**body["metadata"], "resourceVersion": "1"}}
        return copy.deepcopy(self.cronjobs[name])

    async def cronjob_deletions(self, namespace: str, name: str) -> AsyncIterator[None]:
        self.watching.append(name)
        queue = self.deletions.setdefault(name, asyncio.Queue())
        try:
            while True:
                await queue.get()
                yield None
        finally:
            self.watching.remove(name)

    async def deleted(self, name: str) -> None:
        """The CronJob `name` goes, and its watch by name says so (then the loop runs it)."""
        self.cronjobs.pop(name, None)
        self.deletions.setdefault(name, asyncio.Queue()).put_nowait(None)
        for _ in range(5):
            await asyncio.sleep(0)

    async def get_cronjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append(("get_cronjob", name))
        return copy.deepcopy(self.cronjobs.get(name))

    async def replace_cronjob(
        self, body: dict[str, Any], resource_version: str
    ) -> dict[str, Any] | None:
        self._maybe_fail()
        self.calls.append(("replace_cronjob", body["spec"]["suspend"]))
        name = body["metadata"]["name"]
        if self.cronjobs[name]["metadata"]["resourceVersion"] != resource_version:
            raise Conflict(409, "Conflict", "changed")
        version = str(int(resource_version) + 1)
        self.cronjobs[name] = {**body, "metadata": {**body["metadata"], "resourceVersion": version}}
        return copy.deepcopy(self.cronjobs[name])

    async def suspend_cronjob(self, namespace: str, name: str) -> None:
        self.calls.append(("suspend_cronjob", name))

    async def job_exists(self, namespace: str, name: str) -> bool:
        self.calls.append(("job_exists", name))
        return name in self.jobs

    async def ensure_runner_rbac(self, namespace: str, account: str, cluster_role: str) -> None:
        self.calls.append(("ensure_runner_rbac", (namespace, account, cluster_role)))

    async def post_event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.calls.append(("post_event", reason))


def scheduledrun(**status: Any) -> dict[str, Any]:
    return builders.scheduledrun(
        uid="u-1", generation=1, metadata={"resourceVersion": "10"}, status=status
    )


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube()


def make_runtime(
    kube: FakeKube, target: bool = True, jobs: dict[str, sweep.JobState] | None = None
) -> Controller:
    cache = ClusterCache()
    if target:
        cache.note_target("team-a", "Agent", "k8s-agent", True)
    if jobs:
        cache.jobs[("team-a", "nightly")] = jobs
    return Controller(
        kube=kube,  # type: ignore[arg-type]
        options=Options(OperatorConfig(), "runner-role"),
        cache=cache,
        counter=RunCounter(Metrics(), started=NOW - timedelta(hours=1)),
        clock=lambda: NOW,
    )


async def event(controller: Controller, type_: str, body: dict[str, Any]) -> None:
    """A ScheduledRun's watch event, and the reconcile it queued."""
    await controller.on_scheduledrun(type_, body)
    await controller.drain()


async def look(controller: Controller, key: tuple[str, str]) -> None:
    """A look at a ScheduledRun by name (the clock's), and the reconcile it queued."""
    await controller.sync_named(key)
    await controller.drain()


def names(calls: list[tuple[str, Any]]) -> list[str]:
    return [c[0] for c in calls]


async def test_a_new_scheduledrun_costs_rbac_apply_and_one_status_write(kube: FakeKube) -> None:
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)

    await event(controller, "MODIFIED", copy.deepcopy(sr))

    assert names(kube.calls) == ["ensure_runner_rbac", "create_cronjob", "patch_status"]
    assert controller.requeue.due[("team-a", "nightly")] == datetime(
        2026, 3, 1, 13, 0, 1, tzinfo=UTC
    )


async def test_the_event_of_our_own_status_write_costs_nothing(kube: FakeKube) -> None:
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)
    await event(controller, "MODIFIED", copy.deepcopy(sr))
    kube.calls.clear()

    await event(controller, "MODIFIED", copy.deepcopy(kube.objects[("team-a", "nightly")]))
    await look(controller, ("team-a", "nightly"))

    assert names(kube.calls) == ["get"]  # the named look reads; nothing writes


async def test_the_echo_of_our_own_status_write_is_not_planned_again(
    kube: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch brings our own status write back: the object as the reconcile left it. It is
    not planned again; a later version (a runner's write) is."""
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)
    await controller.on_scheduledrun("ADDED", copy.deepcopy(sr))
    await controller.drain()
    plans: list[str] = []
    real = plan_module.make_plan

    def counted(body: Any, *args: Any) -> Any:
        plans.append(body["metadata"]["resourceVersion"])
        return real(body, *args)

    monkeypatch.setattr(plan_module, "make_plan", counted)
    echo = copy.deepcopy(kube.objects[("team-a", "nightly")])
    await controller.on_scheduledrun("MODIFIED", echo)
    await controller.drain()
    assert plans == []
    later = copy.deepcopy(echo)
    later["metadata"]["resourceVersion"] = "99"
    await controller.on_scheduledrun("MODIFIED", later)
    await controller.drain()
    assert plans == ["99"]


async def test_a_written_cronjob_is_not_rendered_again_and_keeps_only_its_digest(
    kube: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the CronJob write, its hash is remembered under what it was rendered from and the
    written object's digest: a runner's history write (same spec) renders nothing; the cache
    keeps the digest, not the CronJob's text. An edit of the CronJob is still put back."""
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)
    renders: list[int] = []
    real = render.render_cronjob

    def counted(*args: Any, **kwargs: Any) -> Any:
        renders.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(render, "render_cronjob", counted)
    await controller.on_scheduledrun("ADDED", copy.deepcopy(sr))
    await controller.drain()
    assert len(renders) == 1
    [state] = controller.cache.cronjobs.values()
    assert state.live is None
    assert state.digest
    runner_wrote = copy.deepcopy(kube.objects[("team-a", "nightly")])
    runner_wrote["metadata"]["resourceVersion"] = "50"
    runner_wrote["status"]["runHistory"] = [{"id": "nightly-1", "status": "Pending"}]
    kube.calls.clear()
    await controller.on_scheduledrun("MODIFIED", runner_wrote)
    await controller.drain()
    assert len(renders) == 1
    assert "replace_cronjob" not in names(kube.calls)

    edited = copy.deepcopy(kube.cronjobs[state.name])
    edited["spec"]["schedule"] = "* * * * *"
    edited["metadata"]["resourceVersion"] = "2"
    kube.cronjobs[state.name] = edited
    await controller.on_cronjob("MODIFIED", edited)
    await controller.drain()
    assert ("replace_cronjob", False) in kube.calls


async def test_an_api_error_books_a_retry_with_backoff(kube: FakeKube) -> None:
    controller = make_runtime(kube)
    kube.fail_next = [KubeError(500, "InternalError", "boom")] * 2

    await event(controller, "MODIFIED", scheduledrun())
    first = controller.requeue.due[("team-a", "nightly")]
    await event(controller, "MODIFIED", scheduledrun())
    second = controller.requeue.due[("team-a", "nightly")]

    assert (first - NOW, second - NOW) == (timedelta(seconds=2), timedelta(seconds=4))
    assert controller.counter.metrics.reconcile_errors._value.get() == 2


async def test_a_missing_target_suspends_and_warns(kube: FakeKube) -> None:
    controller = make_runtime(kube, target=False)

    await event(controller, "MODIFIED", scheduledrun())

    assert [c for c in kube.calls if c[0] in ("create_cronjob", "post_event")] == [
        ("create_cronjob", True),
        ("post_event", "TargetNotFound"),
    ]
    assert ("team-a", "nightly") not in controller.counter.active_keys


PENDING = {"id": "nightly-29000000", "status": "Pending", "startTime": "2026-03-01T11:00:05Z"}


@pytest.mark.parametrize(
    ("jobs", "existing_jobs", "expected_status"),
    [
        pytest.param(
            {"nightly-29000000": sweep.JobState("nightly-29000000", "DeadlineExceeded")},
            set(),
            "Timeout",
            id="deadline-exceeded",
        ),
        pytest.param({}, set(), "Failed", id="job-gone"),
        pytest.param({}, {"nightly-29000000"}, "Pending", id="job-younger-than-the-cache"),
    ],
)
async def test_a_pending_entry_ends_only_when_its_job_failed_or_is_confirmed_gone(
    kube: FakeKube,
    jobs: dict[str, sweep.JobState],
    existing_jobs: set[str],
    expected_status: str,
) -> None:
    sr = scheduledrun(runHistory=[PENDING])
    kube.objects[("team-a", "nightly")] = sr
    kube.jobs = existing_jobs
    controller = make_runtime(kube, jobs=jobs)

    await event(controller, "MODIFIED", copy.deepcopy(sr))

    (entry,) = kube.objects[("team-a", "nightly")]["status"]["runHistory"]
    assert entry["status"] == expected_status


async def test_a_status_write_that_conflicts_spares_the_runner_and_looks_again_at_once(
    kube: FakeKube,
) -> None:
    stale = scheduledrun(runHistory=[PENDING])
    fresh = scheduledrun(runHistory=[{**PENDING, "status": "Succeeded"}])
    fresh["metadata"]["resourceVersion"] = "11"  # the runner wrote after our read
    kube.objects[("team-a", "nightly")] = fresh
    controller = make_runtime(kube)

    await event(controller, "MODIFIED", stale)

    (entry,) = kube.objects[("team-a", "nightly")]["status"]["runHistory"]
    assert entry["status"] == "Succeeded"
    assert controller.requeue.due[("team-a", "nightly")] == NOW
    kube.calls.clear()

    await look(controller, ("team-a", "nightly"))  # the look it booked: read, decide, write

    assert names(kube.calls) == ["get", "patch_status"]
    assert kube.calls[1][1]["metadata"] == {"resourceVersion": "11"}
    (entry,) = kube.objects[("team-a", "nightly")]["status"]["runHistory"]
    assert entry["status"] == "Succeeded"


async def test_a_cronjob_the_apiserver_refuses_is_not_retried_forever(kube: FakeKube) -> None:
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)
    kube.fail_next = [KubeError(422, "Invalid", "CronJob.batch is invalid: spec.schedule")]

    await event(controller, "MODIFIED", copy.deepcopy(sr))

    assert names(kube.calls) == ["ensure_runner_rbac"]  # the refused create; no status yet
    assert controller.requeue.due[("team-a", "nightly")] == NOW  # the plan takes it in at once
    kube.calls.clear()

    await look(controller, ("team-a", "nightly"))

    assert names(kube.calls) == ["get", "patch_status", "post_event"]
    condition = kube.objects[("team-a", "nightly")]["status"]["conditions"][0]
    assert (condition["status"], condition["reason"]) == ("False", "InvalidSpec")
    assert condition["message"] == (
        "the CronJob was rejected: 422 Invalid: CronJob.batch is invalid: spec.schedule"
    )
    kube.calls.clear()

    await event(controller, "MODIFIED", copy.deepcopy(kube.objects[("team-a", "nightly")]))

    assert kube.calls == []  # the same generation is not applied again
    assert controller.requeue.due[("team-a", "nightly")] - NOW == timedelta(hours=1)


async def test_one_log_line_per_decision_with_the_object(
    kube: FakeKube, caplog: pytest.LogCaptureFixture
) -> None:
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube, target=False)
    caplog.set_level(logging.INFO, logger="generator.operator.controller")

    await event(controller, "MODIFIED", copy.deepcopy(sr))

    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "team-a/nightly: created CronJob nightly (generation 1, suspend true)",
        'team-a/nightly: Accepted=False TargetNotFound: Agent "k8s-agent" not found in namespace'
        ' "team-a"; the CronJob stays suspended until it exists',
    ]
    formatter = kopf_loggers.make_formatter(kopf.LogFormat.JSON)
    record = json.loads(formatter.format(caplog.records[0]))
    assert record["object"] == {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "namespace": "team-a",
        "name": "nightly",
    }
    assert record["message"].endswith("created CronJob nightly (generation 1, suspend true)")


FOREIGN = {
    "metadata": {"name": "nightly", "namespace": "team-a", "resourceVersion": "7"},
    "spec": {"schedule": "* * * * *", "suspend": False},
}


def foreign_in_the_way(kube: FakeKube) -> tuple[dict[str, Any], Controller]:
    """A ScheduledRun whose CronJob name a foreign CronJob holds, and a controller."""
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    kube.cronjobs["nightly"] = copy.deepcopy(FOREIGN)
    return sr, make_runtime(kube)


async def test_a_foreign_cronjob_of_the_name_is_not_written(kube: FakeKube) -> None:
    sr, controller = foreign_in_the_way(kube)

    await event(controller, "MODIFIED", copy.deepcopy(sr))

    assert names(kube.calls) == ["ensure_runner_rbac", "create_cronjob", "get_cronjob"]
    assert controller.requeue.due[("team-a", "nightly")] == NOW
    kube.calls.clear()
    await look(controller, ("team-a", "nightly"))  # the look at once: says so

    assert kube.calls[:2] == [("get", "nightly"), ("get_cronjob", "nightly")]
    assert names(kube.calls)[2:] == ["patch_status", "post_event"]
    assert kube.cronjobs["nightly"] == FOREIGN
    condition = kube.objects[("team-a", "nightly")]["status"]["conditions"][0]
    assert condition["reason"] == "CronJobConflict"
    assert ("post_event", "CronJobConflict") in kube.calls

    del kube.cronjobs["nightly"]  # the owner removes it: the next look takes the name
    await look(controller, ("team-a", "nightly"))

    assert (
        kube.objects[("team-a", "nightly")]["status"]["conditions"][0]["reason"]
        == "ScheduleAccepted"
    )
    assert kube.cronjobs["nightly"]["metadata"]["ownerReferences"][0]["uid"] == "u-1"


async def test_the_deletion_of_a_foreign_cronjob_frees_its_name_at_once(kube: FakeKube) -> None:
    """The foreign CronJob that keeps a ScheduledRun from its name is watched by name (kopf sees
    only labelled CronJobs); its deletion reconciles the ScheduledRun at once, not at the
    conflict's recheck a minute later, and the watch ends with the conflict."""
    sr, controller = foreign_in_the_way(kube)
    await event(controller, "MODIFIED", copy.deepcopy(sr))
    await look(controller, ("team-a", "nightly"))  # the plan made again with the conflict
    await asyncio.sleep(0)
    assert controller.conflicted_by("team-a", "nightly") == [("team-a", "nightly")]
    assert controller.cache.cronjobs == {}  # nothing of a foreign CronJob is kept
    assert kube.watching == ["nightly"]  # one watch, however often it is found in the way
    recheck = controller.requeue.due[("team-a", "nightly")]
    assert recheck - NOW == plan_module.CONFLICT_RECHECK
    kube.calls.clear()
    await kube.deleted("nightly")
    await controller.drain()

    assert names(kube.calls)[:3] == ["get", "get_cronjob", "create_cronjob"]
    assert controller.conflicted_by("team-a", "nightly") == []
    condition = kube.objects[("team-a", "nightly")]["status"]["conditions"][0]
    assert condition["reason"] == "ScheduleAccepted"
    assert kube.cronjobs["nightly"]["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    await asyncio.sleep(0)
    assert kube.watching == []
    assert controller.holders.watches == {}


async def test_a_foreign_cronjob_made_again_keeps_the_name_and_its_watch(kube: FakeKube) -> None:
    """Deleted and made again before the ScheduledRun looked: still in the way, still watched."""
    sr, controller = foreign_in_the_way(kube)
    await event(controller, "MODIFIED", copy.deepcopy(sr))
    await kube.deleted("nightly")
    kube.cronjobs["nightly"] = copy.deepcopy(FOREIGN)
    await controller.drain()

    assert controller.conflicted_by("team-a", "nightly") == [("team-a", "nightly")]
    assert "create_cronjob" not in names(kube.calls[-3:])
    assert kube.watching == ["nightly"]


async def test_a_deleted_scheduledrun_ends_the_watch_of_its_name(kube: FakeKube) -> None:
    sr, controller = foreign_in_the_way(kube)
    await event(controller, "MODIFIED", copy.deepcopy(sr))
    await asyncio.sleep(0)
    assert kube.watching == ["nightly"]

    await controller.on_scheduledrun("DELETED", copy.deepcopy(sr))
    await asyncio.sleep(0)

    assert controller.holders.watches == {}
    assert kube.watching == []


async def test_an_owned_cronjob_that_lost_its_label_is_put_back(kube: FakeKube) -> None:
    """kopf's watch asks the API server for labelled CronJobs only, so one whose label was
    removed comes as deleted; its ScheduledRun finds it by name and puts it back."""
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)
    await controller.on_scheduledrun("ADDED", copy.deepcopy(sr))
    await controller.drain()
    edited = copy.deepcopy(kube.cronjobs["nightly"])
    del edited["metadata"]["labels"][api.LABEL_SCHEDULEDRUN]
    edited["metadata"]["resourceVersion"] = "2"
    kube.cronjobs["nightly"] = edited
    kube.calls.clear()

    await controller.on_cronjob("DELETED", copy.deepcopy(edited))
    await controller.drain()

    assert ("replace_cronjob", False) in kube.calls
    assert api.LABEL_SCHEDULEDRUN in kube.cronjobs["nightly"]["metadata"]["labels"]


async def test_an_owned_cronjob_is_replaced_with_exactly_the_desired_one(kube: FakeKube) -> None:
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)
    await event(controller, "MODIFIED", copy.deepcopy(sr))
    desired = copy.deepcopy(kube.cronjobs["nightly"])
    pod = kube.cronjobs["nightly"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["containers"].append({"name": "exfiltrate", "image": "evil:1"})
    controller.cache.note_cronjob("team-a", kube.cronjobs["nightly"], True)
    changed = copy.deepcopy(kube.objects[("team-a", "nightly")])
    changed["spec"]["schedule"] = "5 * * * *"
    changed["metadata"]["generation"] = 2
    changed["metadata"]["resourceVersion"] = "20"

    await event(controller, "MODIFIED", changed)

    now = kube.cronjobs["nightly"]
    assert now["spec"]["schedule"] == "5 * * * *"
    containers = now["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert containers == desired["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]


async def test_an_entry_id_that_is_no_job_name_is_ended_without_a_request(kube: FakeKube) -> None:
    forged = {"id": "../../api/v1/namespaces/b/secrets/x", "status": "Pending"}
    sr = scheduledrun(runHistory=[forged])
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)

    await event(controller, "MODIFIED", copy.deepcopy(sr))

    assert "job_exists" not in names(kube.calls)
    (entry,) = kube.objects[("team-a", "nightly")]["status"]["runHistory"]
    assert (entry["status"], entry["message"]) == ("Failed", sweep.NOT_A_JOB_MESSAGE)


class RbacConflictKube(FakeKube):
    async def ensure_runner_rbac(self, namespace: str, account: str, cluster_role: str) -> None:
        raise RunnerAccessConflict(422, "Invalid", "RoleBinding runner is bound to another role")


async def test_a_foreign_runner_rolebinding_is_reported_not_retried_in_a_loop() -> None:
    kube = RbacConflictKube()
    sr = scheduledrun()
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)

    await event(controller, "MODIFIED", copy.deepcopy(sr))

    condition = kube.objects[("team-a", "nightly")]["status"]["conditions"][0]
    assert (condition["reason"], condition["message"]) == (
        "RunnerAccessConflict",
        "RoleBinding runner is bound to another role",
    )
    assert controller.requeue.due[("team-a", "nightly")] - NOW == timedelta(minutes=1)


async def test_an_event_only_queues_and_keeps_no_tenant_annotation(kube: FakeKube) -> None:
    sr = scheduledrun()
    sr["metadata"]["annotations"] = {"example.com/blob": "x" * 250_000}
    kube.objects[("team-a", "nightly")] = sr
    controller = make_runtime(kube)

    await controller.on_scheduledrun("MODIFIED", copy.deepcopy(sr))

    assert kube.calls == []  # the handler returned before any reconcile
    held = controller.queue.bodies[("team-a", "nightly")][0]
    assert "annotations" not in held["metadata"]
    await controller.drain()
    assert names(kube.calls) == ["ensure_runner_rbac", "create_cronjob", "patch_status"]


async def test_a_waiting_reconcile_of_a_deleted_object_reads_it_and_writes_nothing(
    kube: FakeKube,
) -> None:
    sr = scheduledrun()
    controller = make_runtime(kube)
    await controller.on_scheduledrun("MODIFIED", copy.deepcopy(sr))
    await controller.on_scheduledrun("DELETED", copy.deepcopy(sr))  # before a worker took it

    await controller.drain()

    assert names(kube.calls) == ["get"]
    assert ("team-a", "nightly") not in controller.requeue.due


async def test_workers_reconcile_each_queued_key_once_with_its_latest_body(
    kube: FakeKube,
) -> None:
    controller = make_runtime(kube)
    for generation in (1, 2, 3):
        sr = scheduledrun()
        sr["metadata"]["generation"] = generation
        kube.objects[("team-a", "nightly")] = copy.deepcopy(sr)
        await controller.on_scheduledrun("MODIFIED", sr)
    workers = [asyncio.create_task(controller.work()) for _ in range(4)]
    try:
        for _ in range(100):
            await asyncio.sleep(0)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    statuses = [c[1] for c in kube.calls if c[0] == "patch_status"]
    assert [s["status"]["observedGeneration"] for s in statuses] == [3]
