"""The operator's running state and the steps that carry out a reconcile plan.

`plan.make_plan` decides; `Controller.reconcile` reads what the decision needs from the
`ClusterCache`, makes the calls the plan names through `kube.Kube`, sweeps orphaned `Pending`
entries (`sweep`), counts finished runs, and books the next look. Every path that can touch a
ScheduledRun (its own watch events, its target's, its Jobs', the clock) ends here, one at a time
per object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from generator.cronjob import drift, render
from generator.cronjob.config import OperatorConfig
from generator.operator import plan, sweep
from generator.operator.cache import ClusterCache, cronjob_state
from generator.operator.kube import Conflict, Kube, RunnerAccessConflict
from generator.operator.metrics import RunCounter
from generator.operator.requeue import RequeueClock
from runner import api
from runner.api import ObjectKey
from runner.conditions import EventReason
from runner.kube import KubeError

logger = logging.getLogger(__name__)


def ref(key: ObjectKey) -> dict[str, Any]:
    """`extra` of a log line about one ScheduledRun: kopf's JSON format prints it as `object`."""
    return {
        "k8s_ref": {
            "apiVersion": api.API_VERSION,
            "kind": api.KIND,
            "namespace": key[0],
            "name": key[1],
        }
    }


# After a failed API call, look again this soon (doubling per failure of the same object, capped):
# quick enough to heal a blip within seconds, slow enough not to hammer a struggling apiserver.
RETRY_FIRST: Final = timedelta(seconds=2)
RETRY_MAX: Final = timedelta(minutes=5)
SWEEP_ATTEMPTS: Final = 5
# Reconciles in flight at once. A burst of 1000 creations would otherwise start 1000 at once, each
# holding its rendered CronJob while it queues for one of the client's few connections: the peak
# memory of that burst stays in the process (Python rarely returns freed arenas to the OS).
IN_FLIGHT: Final = 32
TARGET_GROUP_VERSION: Final = f"{api.TARGET_GROUP}/{api.TARGET_VERSION}"


@dataclass(frozen=True)
class Options:
    """What `scheduledrun operator` was started with, besides kopf's own flags."""

    settings: OperatorConfig
    runner_cluster_role: str
    namespaces: tuple[str, ...] = ()  # empty: all namespaces


@dataclass
class Controller:
    kube: Kube
    options: Options
    cache: ClusterCache
    counter: RunCounter
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    requeue: RequeueClock = field(init=False)
    applied: dict[ObjectKey, plan.CronJobState] = field(default_factory=dict)
    rbac_ready: set[str] = field(default_factory=set)
    failures: dict[ObjectKey, int] = field(default_factory=dict)
    locks: dict[ObjectKey, tuple[asyncio.Lock, int]] = field(default_factory=dict)
    hashes: plan.HashCache = field(default_factory=plan.HashCache)
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(IN_FLIGHT))
    # CronJobs the API server refused (a rule validation missed), by generation: retrying the
    # same spec would loop forever, so it becomes Accepted=False until the spec changes.
    rejections: dict[ObjectKey, tuple[Any, str]] = field(default_factory=dict)
    # ScheduledRuns whose CronJob name is taken by an object they do not control: (the CronJob's
    # name, why). Looked at again (a GET) on each reconcile until the name is free or ours.
    conflicts: dict[ObjectKey, tuple[str, str]] = field(default_factory=dict)
    # Namespaces whose runner RoleBinding is bound to another role: why.
    access_conflicts: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.requeue = RequeueClock(self.reconcile_named, self.clock)

    @contextlib.asynccontextmanager
    async def locked(self, key: ObjectKey) -> AsyncIterator[None]:
        """One reconcile per object at a time; the lock lives only while someone holds or waits."""
        lock, users = self.locks.get(key, (asyncio.Lock(), 0))
        self.locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self.locks[key]
            if users <= 1:
                del self.locks[key]
            else:
                self.locks[key] = (lock, users - 1)

    async def prefill(self) -> None:
        """List targets, CronJobs and Jobs before any handler runs, so the first reconcile of
        each ScheduledRun after a restart sees the same cache as the last one before it."""
        owned = api.LABEL_SCHEDULEDRUN
        for namespace in self.options.namespaces or (None,):
            for kind, target in api.TARGET_KINDS.items():
                for item in await self.kube.list_items(
                    TARGET_GROUP_VERSION, target.plural, namespace
                ):
                    meta = item["metadata"]
                    self.cache.note_target(meta["namespace"], kind, meta["name"], True, True)
            for item in await self.kube.list_items("batch/v1", "cronjobs", namespace, owned):
                self.cache.note_cronjob(item["metadata"]["namespace"], item, True, True)
            for item in await self.kube.list_items("batch/v1", "jobs", namespace, owned):
                self.cache.note_job(item["metadata"]["namespace"], item, True, True)

    async def confirm_cache_later(self, delay: float) -> None:
        """After kopf's own listings have confirmed what exists, forget what the start-up listing
        saw that has gone since, and look again at the ScheduledRuns it concerns."""
        await asyncio.sleep(delay)
        for key in self.cache.drop_unconfirmed():
            self.applied.pop(key, None)
            await self.reconcile_named(key)

    def forget(self, key: ObjectKey) -> None:
        """The ScheduledRun is gone (its CronJob goes with it through the owner reference)."""
        self.applied.pop(key, None)
        self.failures.pop(key, None)
        self.rejections.pop(key, None)
        self.conflicts.pop(key, None)
        self.requeue.forget(key)
        self.counter.forget(key)

    async def reconcile_named(self, key: ObjectKey) -> None:
        """Reconcile a ScheduledRun known only by name (a target, Job or clock woke it)."""
        async with self.locked(key):
            try:
                body = await self.kube.get_scheduledrun(*key)
            except KubeError as exc:
                self._retry_later(key, exc)
                return
            if body is None:
                self.forget(key)
                return
            await self._reconcile(key, body)

    async def reconcile(self, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        key = (str(meta["namespace"]), str(meta["name"]))
        async with self.locked(key):
            await self._reconcile(key, body)

    def _known_cronjob(self, key: ObjectKey) -> plan.CronJobState | None:
        name = render.cronjob_name(key[1])
        return self.cache.cronjob(key[0], name) or self.applied.get(key)

    async def _reconcile(self, key: ObjectKey, body: Mapping[str, Any]) -> None:
        async with self.slots:
            await self._reconcile_now(key, body)

    def conflicted_by(self, namespace: str, cronjob: str) -> list[ObjectKey]:
        """ScheduledRuns kept from `cronjob` by its owner: to look at when it goes."""
        return [k for k, (n, _) in self.conflicts.items() if k[0] == namespace and n == cronjob]

    async def _recheck_conflict(self, key: ObjectKey, body: Mapping[str, Any]) -> str | None:
        """Whether the CronJob that stood in the way still does (a read)."""
        name, _ = self.conflicts[key]
        current = await self.kube.get_cronjob(key[0], name)
        why = None if current is None else plan.foreign_cronjob(body, current)
        if why is None:
            del self.conflicts[key]
        else:
            self.conflicts[key] = (name, why)
        return why

    async def _reconcile_now(self, key: ObjectKey, body: Mapping[str, Any]) -> None:
        namespace, name = key
        now = self.clock()
        try:
            access = await self._ensure_rbac(namespace)
            foreign = await self._recheck_conflict(key, body) if key in self.conflicts else None
        except KubeError as exc:
            self._retry_later(key, exc)
            return
        observed = plan.Observed(
            now=now,
            target_exists=self.cache.target_exists(plan.target_key(body)),
            cronjob=self._known_cronjob(key),
            cronjob_conflict=foreign,
            access_conflict=access,
        )
        generation = body["metadata"].get("generation")
        rejection = self.rejections.get(key)
        if rejection is not None and rejection[0] != generation:
            self.rejections.pop(key)
            rejection = None
        rejected = rejection[1] if rejection else None
        decided = plan.make_plan(body, self.options.settings, observed, self.hashes, rejected)
        try:
            if decided.apply_cronjob is not None:
                try:
                    live, why = await self._write_cronjob(
                        decided.apply_cronjob, body, exists=observed.cronjob is not None
                    )
                except KubeError as exc:
                    if exc.status not in (400, 422) or rejected is not None:
                        raise
                    self.rejections[key] = (generation, str(exc))
                    logger.warning(
                        "%s/%s: the API server rejected its CronJob: %s", *key, exc, extra=ref(key)
                    )
                    await self._reconcile_now(key, body)  # once more, to say so in the status
                    return
                if why is not None:
                    self.conflicts[key] = (decided.apply_cronjob["metadata"]["name"], why)
                    self.applied.pop(key, None)
                    await self._reconcile_now(key, body)  # once more, to say so in the status
                    return
                # The response is the CronJob as it now is: noted at once, so a reconcile before
                # the watch event arrives does not see the old (drifted) one and apply again.
                if live is not None:
                    self.cache.note_cronjob(namespace, live, present=True)
                self.applied[key] = cronjob_state(live or decided.apply_cronjob)
                await self._log_apply(key, body, decided)
            if decided.suspend_cronjob is not None:
                await self.kube.suspend_cronjob(namespace, decided.suspend_cronjob)
                logger.info(
                    "%s/%s: suspended CronJob %s (%s)",
                    *key,
                    decided.suspend_cronjob,
                    decided.verdict.reason,
                    extra=ref(key),
                )
            if decided.status_patch is not None:
                await self.kube.patch_status(namespace, name, decided.status_patch)
            if decided.accepted_changed:
                verdict = decided.verdict
                logger.info(
                    "%s/%s: Accepted=%s %s: %s",
                    *key,
                    verdict.accepted,
                    verdict.reason,
                    verdict.message,
                    extra=ref(key),
                )
            if decided.event is not None:
                await self._post_event(body, decided.event)
            if decided.policy_event is not None:
                await self._post_event(body, decided.policy_event)
            await self._sweep(key, body)
        except KubeError as exc:
            self._retry_later(key, exc)
            return
        self.failures.pop(key, None)
        status = body.get("status") or {}
        self.counter.observe(key, status.get("runHistory") or [])
        self.counter.set_active(key, decided.active)
        self.requeue.at(key, decided.look_again_at)

    async def _log_apply(self, key: ObjectKey, body: Mapping[str, Any], decided: plan.Plan) -> None:
        """One line per CronJob write; a revert also posts an event that says what it undid."""
        assert decided.apply_cronjob is not None
        cronjob = decided.apply_cronjob["metadata"]["name"]
        suspended = decided.apply_cronjob["spec"]["suspend"]
        if decided.cronjob_action == "revert":
            what = drift.describe(decided.reverted)
            logger.info(
                "%s/%s: reverted edits of CronJob %s: %s", *key, cronjob, what, extra=ref(key)
            )
            message = plan.bounded(f"CronJob {cronjob} was edited; put back {what}")
            await self._post_event(
                body, plan.Event("Warning", EventReason.CRONJOB_REVERTED, message)
            )
        else:
            verb = "created" if decided.cronjob_action == "create" else "updated"
            logger.info(
                "%s/%s: %s CronJob %s (generation %s, suspend %s)",
                *key,
                verb,
                cronjob,
                body["metadata"].get("generation"),
                str(suspended).lower(),
                extra=ref(key),
            )

    def _retry_later(self, key: ObjectKey, exc: Exception) -> None:
        count = self.failures.get(key, 0) + 1
        self.failures[key] = count
        delay = min(RETRY_FIRST * 2 ** (count - 1), RETRY_MAX)
        logger.warning(
            "%s/%s: reconcile failed (%s); again in %s", *key, exc, delay, extra=ref(key)
        )
        self.requeue.at(key, self.clock() + delay)

    async def _write_cronjob(
        self, desired: Mapping[str, Any], sr: Mapping[str, Any], exists: bool
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Make the CronJob hold exactly `desired`, only if `sr` controls it (or it is new):
        (the CronJob as it now is, None) or, when it belongs to something else, (None, why);
        nothing is written then. A replace rather than server-side apply: fields another
        manager added (a container, env, a volume) go too, which a forced apply would keep."""
        meta = desired["metadata"]
        if not exists and (created := await self.kube.create_cronjob(desired)) is not None:
            return created, None
        for _ in range(SWEEP_ATTEMPTS):
            current = await self.kube.get_cronjob(meta["namespace"], meta["name"])
            if current is None:
                if (created := await self.kube.create_cronjob(desired)) is not None:
                    return created, None
                continue
            why = plan.foreign_cronjob(sr, current)
            if why is not None:
                return None, why
            try:
                version = current["metadata"]["resourceVersion"]
                return await self.kube.replace_cronjob(desired, version), None
            except Conflict:
                continue  # changed since the read: read again
        where = f"{meta['namespace']}/{meta['name']}"
        raise KubeError(409, "Conflict", f"CronJob {where} kept changing")

    async def _ensure_rbac(self, namespace: str) -> str | None:
        """The runner's access in `namespace`; why it cannot be made, when a foreign RoleBinding
        of its name stands in the way (tried again on each reconcile of the namespace's
        ScheduledRuns, so removing it heals)."""
        if namespace in self.rbac_ready:
            return None
        try:
            await self.kube.ensure_runner_rbac(
                namespace,
                self.options.settings.runner_service_account,
                self.options.runner_cluster_role,
            )
        except RunnerAccessConflict as exc:
            why = exc.message
            if self.access_conflicts.get(namespace) != why:
                logger.warning("runner access in namespace %s: %s", namespace, why)
            self.access_conflicts[namespace] = why
            return why
        self.access_conflicts.pop(namespace, None)
        self.rbac_ready.add(namespace)
        return None

    async def _post_event(self, body: Mapping[str, Any], event: plan.Event) -> None:
        try:
            await self.kube.post_event(body, event.type, event.reason, event.message)
        except KubeError as exc:  # an event is a courtesy; the condition holds the truth
            logger.warning("could not post event %s: %s", event.reason, exc)

    async def _sweep(self, key: ObjectKey, body: Mapping[str, Any]) -> None:
        """Resolve `Pending` entries whose Job failed or vanished; never clobber a runner: the
        write carries the resourceVersion it was computed from, and a conflict re-reads."""
        namespace, name = key
        status = body.get("status") or {}
        resolutions = sweep.pending_resolutions(
            status.get("runHistory") or [], self.cache.jobs_of(*key)
        )
        confirmed = []
        for resolution in resolutions:
            if resolution.job_gone and await self.kube.job_exists(namespace, resolution.entry_id):
                continue  # a Job younger than the cache's view: not gone
            confirmed.append(resolution)
        current: Mapping[str, Any] | None = body
        for _ in range(SWEEP_ATTEMPTS):
            if current is None:
                return
            fields = sweep.resolve(current.get("status") or {}, confirmed, self.clock())
            if fields is None:
                return
            version = current["metadata"].get("resourceVersion")
            patch = {"metadata": {"resourceVersion": version}, "status": fields}
            try:
                await self.kube.patch_status(namespace, name, patch)
                logger.info(
                    "%s/%s: swept %d orphaned run(s): %s",
                    *key,
                    len(confirmed),
                    ", ".join(f"{r.entry_id} {r.status}" for r in confirmed),
                    extra=ref(key),
                )
                return
            except Conflict:
                current = await self.kube.get_scheduledrun(namespace, name)
        raise KubeError(409, "Conflict", f"sweep of {namespace}/{name} kept conflicting")
