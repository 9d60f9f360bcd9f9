"""kopf handlers: thin adapters from watch events to `Runtime.reconcile`.

Only event, index and activity handlers: they carry no progress and no "last handled"
annotation, so kopf writes nothing, and a missed event or a restart heals by the next event or
the recheck clock (level-based). Indexes (filled before any handler runs, also after a restart)
answer "does the target exist", "which CronJob and Jobs exist" without API calls.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import kopf
from prometheus_client import start_http_server

from generator import reconcile, render, startup
from generator.kube import Kube
from generator.metrics import Metrics, RunCounter
from generator.runtime import Indexes, Runtime
from runner import api

logger = logging.getLogger(__name__)

AGENTS = ("kagent.dev", "v1alpha2", "agents")
SANDBOXAGENTS = ("kagent.dev", "v1alpha2", "sandboxagents")
OWNED = {api.LABEL_SCHEDULEDRUN: kopf.PRESENT}


def _runtime(memo: Any) -> Runtime:
    runtime: Runtime = memo["runtime"]
    return runtime


@kopf.on.startup()
async def start(*, settings: kopf.OperatorSettings, memo: Any, **kwargs: Any) -> None:
    startup.configure(settings)
    metrics = Metrics()
    if memo.get("metrics_port"):
        start_http_server(memo["metrics_port"], registry=metrics.registry)
    names = ("scheduledruns", "agents", "sandboxagents", "cronjobs", "jobs")
    indexes = Indexes(*(kwargs[f"{n}_index"] for n in names))
    kube = await Kube.connect(metrics.api_requests)
    counter = RunCounter(metrics, started=datetime.now(UTC))
    runtime = Runtime(kube=kube, options=memo["options"], indexes=indexes, counter=counter)
    memo["runtime"] = runtime
    memo["clock_task"] = asyncio.create_task(runtime.rechecks.run())


@kopf.on.cleanup()
async def stop(*, memo: Any, **_: Any) -> None:
    memo["clock_task"].cancel()
    await _runtime(memo).kube.close()


# Indexes. Values are small frozen records, never whole bodies: memory per object matters.
# Async, so kopf calls them in its loop instead of handing each call to a thread pool.


@kopf.index(api.GROUP, api.VERSION, api.PLURAL, id="scheduledruns_index")
async def scheduledruns_index(
    *, body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[Any, str]:
    keys: dict[Any, str] = {("label", namespace, render.label_value(name)): name}
    target = reconcile.target_key(body)
    if target is not None:
        keys[("target", *target)] = name
    return keys


@kopf.index(*AGENTS, id="agents_index")
async def agents_index(*, namespace: str | None, name: str, **_: Any) -> dict[Any, bool]:
    return {(namespace, "Agent", name): True}


@kopf.index(*SANDBOXAGENTS, id="sandboxagents_index")
async def sandboxagents_index(*, namespace: str | None, name: str, **_: Any) -> dict[Any, bool]:
    return {(namespace, "SandboxAgent", name): True}


@kopf.index("batch", "v1", "cronjobs", labels=OWNED, id="cronjobs_index")
async def cronjobs_index(
    *, namespace: str | None, name: str, meta: kopf.Meta, spec: kopf.Spec, **_: Any
) -> dict[Any, reconcile.CronJobState]:
    state = reconcile.CronJobState(
        name,
        meta.annotations.get(reconcile.ANNOTATION_SPEC_HASH),
        bool(spec.get("suspend")),
        meta.creation_timestamp,
    )
    return {(namespace, name): state}


@kopf.index("batch", "v1", "jobs", labels=OWNED, id="jobs_index")
async def jobs_index(
    *, namespace: str | None, labels: kopf.Labels, body: kopf.Body, **_: Any
) -> dict[Any, reconcile.JobState]:
    return {(namespace, labels[api.LABEL_SCHEDULEDRUN]): reconcile.job_state(body)}


# Events.


@kopf.on.event(api.GROUP, api.VERSION, api.PLURAL)
async def scheduledrun_event(
    *, type: str, event: kopf.RawEvent, namespace: str | None, name: str, memo: Any, **_: Any
) -> None:
    if type == "DELETED":
        _runtime(memo).forget((str(namespace), name))
        return
    await _runtime(memo).reconcile(event["object"])


@kopf.on.event(*AGENTS)
@kopf.on.event(*SANDBOXAGENTS)
async def target_event(
    *, type: str, body: kopf.Body, namespace: str | None, name: str, memo: Any, **_: Any
) -> None:
    # Only appearing and vanishing matter; the initial listing (type None) is covered by the
    # ScheduledRuns' own first events, which see the already filled index.
    if type not in ("ADDED", "DELETED"):
        return
    runtime = _runtime(memo)
    for sr in runtime.indexes.scheduledruns_by(("target", namespace, body["kind"], name)):
        await runtime.reconcile_named((str(namespace), sr))


@kopf.on.event("batch", "v1", "cronjobs", labels=OWNED)
async def cronjob_event(
    *, type: str, namespace: str | None, annotations: kopf.Annotations, memo: Any, **_: Any
) -> None:
    owner = annotations.get(render.ANNOTATION_SCHEDULEDRUN_NAME)
    if type == "DELETED" and owner:  # deleted by hand: put it back (or forget a deleted owner)
        runtime = _runtime(memo)
        runtime.applied.pop((str(namespace), owner), None)
        await runtime.reconcile_named((str(namespace), owner))


@kopf.on.event("batch", "v1", "jobs", labels=OWNED)
async def job_event(
    *, type: str, body: kopf.Body, namespace: str | None, labels: kopf.Labels, memo: Any, **_: Any
) -> None:
    state = reconcile.job_state(body)
    if type is None or not (type == "DELETED" or state.failed or state.complete):
        return  # running, or the initial listing (each ScheduledRun sweeps on its first event)
    runtime = _runtime(memo)
    label = labels[api.LABEL_SCHEDULEDRUN]
    for sr in runtime.indexes.scheduledruns_by(("label", namespace, label)):
        await runtime.reconcile_named((str(namespace), sr))
