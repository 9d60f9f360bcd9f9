"""The operator's running state and its reconcile, shaped like Kubernetes' CronJob controller.

`Controller.sync` is the one reconcile of one ScheduledRun: read what the decision needs (the
`ClusterCache`, a GET where the cache cannot know: a foreign CronJob in the way, a Job that may
have vanished), decide once (`plan.make_plan`, pure), write the CronJob, make one status write
guarded by the resourceVersion the plan was computed from, and book when to look again. What a
write learns (the API server refused the CronJob, a foreign CronJob holds its name, a runner
wrote the status meanwhile) is kept and the ScheduledRun looked at again at once: the next plan
takes it as an input, so nothing is decided outside `make_plan` and a reconcile never calls
itself. Every path that can touch a ScheduledRun (its own watch events, its target's, its
CronJob's and Jobs', the clock) adds the object's key to one work queue (generator/operator/
workqueue.py) and returns: a fixed number of workers take keys from it, one reconcile per object
at a time, in per-namespace round robin, so one namespace's flood of events cannot starve the
others. A ScheduledRun's event keeps only what the reconcile reads (generator/operator/slim.py)
until its turn, so kopf drops the whole object at once. Each kopf handler is one call to an `on_*`
method here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from generator.cronjob import drift, render
from generator.cronjob.config import OperatorConfig
from generator.operator import hotminute, plan, slim, sweep
from generator.operator.cache import ClusterCache
from generator.operator.holders import Holders
from generator.operator.kube import Conflict, Kube, RunnerAccessConflict
from generator.operator.metrics import RunCounter
from generator.operator.requeue import RequeueClock
from generator.operator.workqueue import WorkQueue
from generator.schedule import load
from runner import api, history
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
# Reads and writes of one CronJob before giving up for now (each failed because it changed
# between the read and the write).
WRITE_ATTEMPTS: Final = 5
# How soon to look again when a write taught something the plan must take in: at once.
AT_ONCE: Final = timedelta(0)
# Workers taking keys from the work queue: reconciles in flight at once. Twice the API client's
# connections (kube.MAX_CONNECTIONS) keeps them busy while each reconcile waits on its next call;
# more would only hold more rendered CronJobs and read objects at once (the peak memory of a
# burst stays in the process: Python rarely returns freed arenas to the OS).
WORKERS: Final = 16
# Reads of a whole ScheduledRun at once (a reconcile whose key waited without a body, a look by
# name): each holds the object as sent, as text and decoded until it is slimmed, and a tenant
# can make each 1.5 MiB as stored; the other workers' writes go on meanwhile.
READS: Final = 4
TARGET_GROUP_VERSION: Final = f"{api.TARGET_GROUP}/{api.TARGET_VERSION}"


@dataclass(frozen=True)
class Options:
    """What `scheduledrun operator` was started with, besides kopf's own flags."""

    settings: OperatorConfig
    runner_cluster_role: str
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    hot_minute_capacity: int = hotminute.DEFAULT_CAPACITY


@dataclass(frozen=True)
class Written:
    """What writing the CronJob taught: nothing new (`live` is the CronJob as it now is, or None
    when nothing was written), or why the plan must be made again (`rejected`, `foreign`)."""

    live: dict[str, Any] | None = None
    rejected: str | None = None  # the API server refused it (400/422): the spec is invalid
    foreign: str | None = None  # a CronJob of the name that this ScheduledRun does not control


@dataclass
class Controller:
    kube: Kube
    options: Options
    cache: ClusterCache
    counter: RunCounter
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    requeue: RequeueClock = field(init=False)
    rbac_ready: set[str] = field(default_factory=set)
    # One runner-access apply per namespace at a time: the workers reconciling a namespace's
    # ScheduledRuns after a start wait for the first one's instead of each applying the same.
    rbac_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    failures: dict[ObjectKey, int] = field(default_factory=dict)
    hashes: plan.HashCache = field(default_factory=plan.HashCache)
    queue: WorkQueue = field(default_factory=WorkQueue)
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # a key waits in `queue`
    reads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(READS))
    # CronJobs the API server refused (a rule validation missed), by generation: retrying the
    # same spec would loop forever, so it becomes Accepted=False until the spec changes.
    rejections: dict[ObjectKey, tuple[Any, str]] = field(default_factory=dict)
    # ScheduledRuns whose CronJob name is taken by an object they do not control: (the CronJob's
    # name, why). Looked at again (a GET) on each reconcile until the name is free or ours.
    conflicts: dict[ObjectKey, tuple[str, str]] = field(default_factory=dict)
    # Namespaces whose runner RoleBinding is bound to another role: why.
    access_conflicts: dict[str, str] = field(default_factory=dict)

    minutes: hotminute.HotMinutes = field(init=False)
    # A watch by name of each CronJob in `conflicts` (holders.py): its deletion frees the name.
    holders: Holders = field(init=False)
    # Up to when each ScheduledRun's ticks are judged started or missed (generator/operator/
    # missed.py); from the first look after this process started.
    # With the first tick after it, when known.
    judged: dict[ObjectKey, tuple[datetime, datetime | None]] = field(default_factory=dict)
    # The resourceVersion each ScheduledRun's last status write produced, until its watch event
    # comes back (that event is skipped: see on_scheduledrun).
    echoes: dict[ObjectKey, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.requeue = RequeueClock(self.sync_named, self.clock)
        self.minutes = hotminute.HotMinutes(self.options.hot_minute_capacity)
        self.holders = Holders(self.kube, self.on_cronjob_gone)

    # Start and stop

    async def start(self, confirm_after: float, workers: int = WORKERS) -> list[asyncio.Task[None]]:
        """Fill the cache, then run the workers, the requeue clock and the cache's later
        confirmation."""
        await self.prefill()
        return [
            *(asyncio.create_task(self.work()) for _ in range(workers)),
            asyncio.create_task(self.requeue.run()),
            asyncio.create_task(self.confirm_cache_later(confirm_after)),
            asyncio.create_task(self.watch_minutes()),
        ]

    async def watch_minutes(self, interval: float = hotminute.LOOK_EVERY) -> None:
        """Compute the per-minute load again when a schedule changed or the hour turned, and
        reconcile the ScheduledRuns whose minute became crowded or no longer is."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_minutes()
            except Exception:  # a bug here must not end the warnings for good: log, go on
                logger.exception("computing the per-minute load failed")

    async def check_minutes(self) -> None:
        now = self.clock()
        if not self.minutes.due(now):
            return
        changed = self.minutes.compute(now)
        fullest = self.minutes.fullest
        self.counter.metrics.fullest_minute.set(fullest[1] if fullest else 0)
        for key in sorted(changed):
            await self.sync_named(key)

    async def prefill(self) -> None:
        """List targets, CronJobs and Jobs before any handler runs, so the first reconcile of
        each ScheduledRun after a restart sees the same cache as the last one before it."""
        owned = api.LABEL_SCHEDULEDRUN
        for namespace in self.options.namespaces or (None,):
            for kind, target in api.TARGET_KINDS.items():
                async for page in self.kube.list_pages(
                    TARGET_GROUP_VERSION, target.plural, namespace
                ):
                    for item in page:
                        meta = item["metadata"]
                        self.cache.note_target(meta["namespace"], kind, meta["name"], True, True)
            async for page in self.kube.list_pages("batch/v1", "cronjobs", namespace, owned):
                for item in page:
                    self.cache.note_cronjob(item["metadata"]["namespace"], item, True, True)
            async for page in self.kube.list_pages("batch/v1", "jobs", namespace, owned):
                for item in page:
                    self.cache.note_job(item["metadata"]["namespace"], item, True, True)

    async def confirm_cache_later(self, delay: float) -> None:
        """After kopf's own listings have confirmed what exists, forget what the start-up listing
        saw that has gone since, and look again at the ScheduledRuns it concerns."""
        await asyncio.sleep(delay)
        for key in self.cache.drop_unconfirmed():
            await self.sync_named(key)

    # Watch events (one call per kopf handler)

    async def on_scheduledrun(self, type_: str | None, body: Mapping[str, Any]) -> None:
        """A ScheduledRun's own event: queue its reconcile with what it needs of the body the
        event carries (the rest of the body is dropped now, with kopf's event)."""
        self.cache.note_scheduledrun(body, present=type_ != "DELETED")
        meta = body["metadata"]
        key = (str(meta["namespace"]), str(meta["name"]))
        if type_ == "DELETED":
            self.queue.drop_body(key)  # a reconcile still waiting reads it (gone, or made anew)
            self.forget(key)  # its CronJob goes with it through the owner reference
            return
        if self.echoes.pop(key, None) == meta.get("resourceVersion"):
            # Our own status write coming back: the object as the last reconcile left it, so
            # there is nothing to decide again (the clock already holds its next look). Only
            # the runs its sweep ended are new to the counters.
            self.counter.observe(key, (body.get("status") or {}).get("runHistory") or [])
            return
        kept = slim.scheduledrun(body)
        self.enqueue(key, kept, slim.size(kept))

    async def on_target(self, type_: str | None, namespace: str, kind: str, name: str) -> None:
        """An Agent or SandboxAgent: only appearing and vanishing matter (not an edit)."""
        if not self.cache.note_target(namespace, kind, name, type_ != "DELETED"):
            return
        for scheduledrun in self.cache.scheduledruns_targeting((namespace, kind, name)):
            await self.sync_named((namespace, scheduledrun))

    async def on_cronjob(self, type_: str | None, body: Mapping[str, Any]) -> None:
        """One of the operator's CronJobs: put back an edit or a deletion (one whose label was
        removed comes as deleted: kopf's watch asks for the labelled ones only); and a deleted
        CronJob's name may be free for the ScheduledRuns it kept from it."""
        meta = body.get("metadata") or {}
        namespace = str(meta.get("namespace", ""))
        changed = self.cache.note_cronjob(namespace, body, present=type_ != "DELETED")
        if type_ == "DELETED":
            await self.on_cronjob_gone(namespace, str(meta.get("name", "")))
        owner = (meta.get("annotations") or {}).get(api.ANNOTATION_SCHEDULEDRUN_NAME)
        if not owner or type_ is None:  # the initial listing: each ScheduledRun's event follows
            return
        if type_ == "DELETED" or changed:  # deleted or edited (not only its status)
            await self.sync_named((namespace, str(owner)))

    async def on_cronjob_gone(self, namespace: str, name: str) -> None:
        """A CronJob was deleted (one of the operator's, seen by kopf's watch; or one that holds a
        ScheduledRun's name, seen by its own watch, holders.py): its name may be free for the
        ScheduledRuns it kept from it."""
        for key in self.conflicted_by(namespace, name):
            await self.sync_named(key)

    async def on_job(self, type_: str | None, body: Mapping[str, Any]) -> None:
        """A runner Job: when it ends or goes, its ScheduledRun may hold a `Pending` entry that
        its runner will never finish."""
        namespace = str((body.get("metadata") or {}).get("namespace", ""))
        self.cache.note_job(namespace, body, present=type_ != "DELETED")
        if type_ == "ADDED":
            label = (body["metadata"].get("labels") or {}).get(api.LABEL_SCHEDULEDRUN, "")
            made_for = self.cache.scheduledrun_labelled(namespace, str(label))
            if made_for is not None:
                self.counter.job_created((namespace, made_for), body)
        state = sweep.job_state(body)
        if type_ is None or not (type_ == "DELETED" or state.failed or state.complete):
            return  # running, or the initial listing (each ScheduledRun sweeps on its first event)
        label = body["metadata"]["labels"][api.LABEL_SCHEDULEDRUN]
        owner = self.cache.scheduledrun_labelled(namespace, label)
        if owner is not None:
            await self.sync_named((namespace, owner))

    # The work queue

    def enqueue(self, key: ObjectKey, body: dict[str, Any] | None = None, size: int = 0) -> None:
        """Queue a reconcile of `key` (with its slimmed body, or None: read it then)."""
        if self.queue.add(key, body, size):
            self.ready.set()

    async def work(self) -> None:
        """One worker: forever, take the next key and reconcile it."""
        while True:
            taken = self.queue.take()
            if taken is None:
                self.ready.clear()
                await self.ready.wait()
                continue
            await self._work(*taken)

    async def drain(self) -> None:
        """Reconcile every queued key in this task until none waits (tests; no workers)."""
        while (taken := self.queue.take()) is not None:
            await self._work(*taken)

    async def _work(self, key: ObjectKey, body: dict[str, Any] | None) -> None:
        try:
            await self.sync(key, body)
        except Exception:  # a bug in one reconcile must not end a worker: log, go on
            logger.exception("%s/%s: reconcile failed", *key, extra=ref(key))
        finally:
            if self.queue.done(key):
                self.ready.set()

    # Bookkeeping

    def forget(self, key: ObjectKey) -> None:
        """The ScheduledRun is gone (its CronJob goes with it through the owner reference)."""
        self.failures.pop(key, None)
        self.rejections.pop(key, None)
        self._drop_conflict(key)
        self.requeue.forget(key)
        self.counter.forget(key)
        self.minutes.forget(key)
        self.judged.pop(key, None)
        self.echoes.pop(key, None)

    def conflicted_by(self, namespace: str, cronjob: str) -> list[ObjectKey]:
        """ScheduledRuns kept from `cronjob` by its owner: to look at when it goes."""
        return [k for k, (n, _) in self.conflicts.items() if k[0] == namespace and n == cronjob]

    def _add_conflict(self, key: ObjectKey, cronjob: str, why: str) -> None:
        self.conflicts[key] = (cronjob, why)
        self.holders.hold(key[0], cronjob)

    def _drop_conflict(self, key: ObjectKey) -> None:
        """`key` is no longer kept from its name; the name's watch ends with its last conflict."""
        held = self.conflicts.pop(key, None)
        if held is not None and not self.conflicted_by(key[0], held[0]):
            self.holders.release(key[0], held[0])

    # The reconcile

    async def sync_named(self, key: ObjectKey) -> None:
        """Queue a reconcile of a ScheduledRun known only by name (a target, Job or clock woke
        it): it reads the object, unless an event's body waits for it already."""
        self.enqueue(key)

    async def sync(self, key: ObjectKey, body: Mapping[str, Any] | None) -> None:
        """Reconcile one ScheduledRun (`body`: as its event carried it; None: read it). Only a
        worker calls it, for a key the queue handed out: one at a time per object."""
        try:
            look_again = await self._sync(key, body)
        except KubeError as exc:
            self._retry_later(key, exc)
            return
        self.failures.pop(key, None)
        self.requeue.at(key, look_again)

    async def _sync(self, key: ObjectKey, body: Mapping[str, Any] | None) -> datetime | None:
        """read -> plan -> write the CronJob -> one status write; when to look again."""
        if body is None:
            async with self.reads:
                read = await self.kube.get_scheduledrun(*key)
                if read is None:
                    self.forget(key)
                    return None
                body = slim.scheduledrun(read)
                del read  # the whole object goes now, not after the reconcile's writes
        observed = await self._observe(key, body)
        decided = plan.make_plan(body, self.options.settings, observed, self.hashes)
        if decided.write_cronjob is not None:
            exists = observed.cronjob is not None
            written = await self._write_cronjob(decided.write_cronjob, body, exists)
            if not self._learn(key, body, decided.write_cronjob, written, observed):
                return self.clock() + AT_ONCE  # the next plan takes in what this write taught
            await self._log_write(key, body, decided)
        self._settle(key[0], decided)
        if decided.suspend_cronjob is not None:
            await self.kube.suspend_cronjob(key[0], decided.suspend_cronjob)
            logger.info(
                "%s/%s: suspended CronJob %s (%s)",
                *key,
                decided.suspend_cronjob,
                decided.verdict.reason,
                extra=ref(key),
            )
        if decided.status_patch is not None:
            try:
                written_status = await self.kube.patch_status(*key, decided.status_patch)
            except Conflict:  # a runner wrote meanwhile: read it and decide again, at once
                logger.debug("%s/%s: status changed since read", *key, extra=ref(key))
                return self.clock() + AT_ONCE
            version = ((written_status or {}).get("metadata") or {}).get("resourceVersion")
            if version:
                self.echoes[key] = str(version)
        await self._report(key, body, decided)
        status = body.get("status") or {}
        self.counter.observe(key, status.get("runHistory") or [])
        self.counter.observe_schedule(key, body, decided.active, observed.now)
        self.minutes.note(key, load.firing(body) if decided.active else None)
        self.judged[key] = (decided.judged_through or self.clock(), decided.next_tick)
        self.counter.missed(key, [str(m.reason) for m in decided.missed])
        return decided.look_again_at

    async def _observe(self, key: ObjectKey, body: Mapping[str, Any]) -> plan.Observed:
        """What exists besides the ScheduledRun: the cache, and reads where it cannot know."""
        namespace, name = key
        access = await self._ensure_rbac(namespace)
        foreign = await self._recheck_conflict(key, body) if key in self.conflicts else None
        generation = body["metadata"].get("generation")
        rejection = self.rejections.get(key)
        if rejection is not None and rejection[0] != generation:  # the spec changed since
            self.rejections.pop(key)
            rejection = None
        status = body.get("status") or {}
        candidates = sweep.pending_resolutions(
            status.get("runHistory") or [], self.cache.jobs_of(namespace, name)
        )
        resolutions = []
        for resolution in candidates:
            if resolution.job_gone and await self.kube.job_exists(namespace, resolution.entry_id):
                continue  # a Job younger than the cache's view: not gone
            resolutions.append(resolution)
        judged = self.judged.get(key)
        return plan.Observed(
            now=self.clock(),
            target_exists=self.cache.target_exists(plan.target_key(body)),
            cronjob=self.cache.cronjob(namespace, render.cronjob_name(name)),
            cronjob_conflict=foreign,
            access_conflict=access,
            rejected=rejection[1] if rejection else None,
            resolutions=tuple(resolutions),
            hot_minute=self.minutes.crowded.get(key),
            hot_minute_capacity=self.minutes.capacity,
            missed_since=judged[0] if judged else None,
            missed_next=judged[1] if judged else None,
            started=frozenset(
                when
                for job in self.cache.jobs_of(namespace, name).values()
                if (when := history.parse_time(job.scheduled)) is not None
            ),
        )

    def _learn(
        self,
        key: ObjectKey,
        body: Mapping[str, Any],
        desired: Mapping[str, Any],
        written: Written,
        observed: plan.Observed,
    ) -> bool:
        """Keep what a CronJob write taught; False when the plan must be made again with it."""
        if written.rejected is not None:
            self.rejections[key] = (body["metadata"].get("generation"), written.rejected)
            logger.warning(
                "%s/%s: the API server rejected its CronJob: %s",
                *key,
                written.rejected,
                extra=ref(key),
            )
            return False
        if written.foreign is not None:
            self._add_conflict(key, desired["metadata"]["name"], written.foreign)
            return False
        # The response is the CronJob as it now is: noted at once, so a reconcile before the
        # watch event arrives does not see the old (drifted) one and write again.
        self.cache.note_cronjob(key[0], written.live or desired, present=True)
        return True

    def _settle(self, namespace: str, decided: plan.Plan) -> None:
        """The CronJob now matches the plan (written, or found in step): remember its hash under
        the fingerprint and its digest, so the next look does not render it again, and keep only
        its digest in the cache."""
        state = self.cache.cronjob(namespace, decided.cronjob) if decided.cronjob else None
        if state is not None and decided.fingerprint is not None:
            plan.remember(self.hashes, decided, state)
            self.cache.settle_cronjob(namespace, state.name)

    async def _recheck_conflict(self, key: ObjectKey, body: Mapping[str, Any]) -> str | None:
        """Whether the CronJob that stood in the way still does (a read)."""
        name, _ = self.conflicts[key]
        current = await self.kube.get_cronjob(key[0], name)
        why = None if current is None else plan.foreign_cronjob(body, current)
        if why is None:
            self._drop_conflict(key)
        else:
            self._add_conflict(key, name, why)
        return why

    async def _write_cronjob(
        self, desired: Mapping[str, Any], sr: Mapping[str, Any], exists: bool
    ) -> Written:
        """Make the CronJob hold exactly `desired`, only if `sr` controls it (or it is new).
        Nothing is written to a CronJob `sr` does not control. A replace rather than server-side
        apply: fields another manager added (a container, env, a volume) go too, which a forced
        apply would keep."""
        meta = desired["metadata"]
        try:
            if not exists and (created := await self.kube.create_cronjob(desired)) is not None:
                return Written(live=created)
            for _ in range(WRITE_ATTEMPTS):
                current = await self.kube.get_cronjob(meta["namespace"], meta["name"])
                if current is None:
                    if (created := await self.kube.create_cronjob(desired)) is not None:
                        return Written(live=created)
                    continue
                why = plan.foreign_cronjob(sr, current)
                if why is not None:
                    return Written(foreign=why)
                try:
                    version = current["metadata"]["resourceVersion"]
                    return Written(live=await self.kube.replace_cronjob(desired, version))
                except Conflict:
                    continue  # changed since the read: read again
        except KubeError as exc:
            if exc.status not in (400, 422):
                raise
            return Written(rejected=str(exc))
        where = f"{meta['namespace']}/{meta['name']}"
        raise KubeError(409, "Conflict", f"CronJob {where} kept changing")

    async def _report(self, key: ObjectKey, body: Mapping[str, Any], decided: plan.Plan) -> None:
        """The log lines and events of a carried-out plan (events are a courtesy)."""
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
        if decided.swept:
            logger.info(
                "%s/%s: swept %d orphaned run(s): %s",
                *key,
                len(decided.swept),
                ", ".join(f"{r.entry_id} {r.status}" for r in decided.swept),
                extra=ref(key),
            )
        if decided.missed:
            logger.warning(
                "%s/%s: %s",
                *key,
                decided.missed_event.message if decided.missed_event else "",
                extra=ref(key),
            )
        events = (decided.event, decided.policy_event, decided.hot_minute_event)
        for event in (*events, decided.missed_event):
            if event is not None:
                await self._post_event(body, event)

    async def _log_write(self, key: ObjectKey, body: Mapping[str, Any], decided: plan.Plan) -> None:
        """One line per CronJob write; a revert also posts an event that says what it undid."""
        assert decided.write_cronjob is not None
        cronjob = decided.write_cronjob["metadata"]["name"]
        suspended = decided.write_cronjob["spec"]["suspend"]
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
        self.counter.metrics.reconcile_errors.inc()
        delay = min(RETRY_FIRST * 2 ** (count - 1), RETRY_MAX)
        logger.warning(
            "%s/%s: reconcile failed (%s); again in %s", *key, exc, delay, extra=ref(key)
        )
        self.requeue.at(key, self.clock() + delay)

    async def _ensure_rbac(self, namespace: str) -> str | None:
        """The runner's access in `namespace`; why it cannot be made, when a foreign RoleBinding
        of its name stands in the way (tried again on each reconcile of the namespace's
        ScheduledRuns, so removing it heals)."""
        if namespace in self.rbac_ready:
            return None
        async with self.rbac_locks.setdefault(namespace, asyncio.Lock()):
            if namespace in self.rbac_ready:  # made while this reconcile waited
                return None
            return await self._apply_rbac(namespace)

    async def _apply_rbac(self, namespace: str) -> str | None:
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
