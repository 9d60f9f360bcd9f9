"""kopf handlers: thin adapters from watch events to the `World` and `Runtime.reconcile`.

Only event and activity handlers: they carry no progress and no "last handled" annotation, so
kopf writes nothing, and a missed event or a restart heals by the next event or the recheck clock
(level-based). The `World` (listed at start-up, then kept current here) answers "does the target
exist", "which CronJob and Jobs exist" without API calls.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Final

import kopf
from prometheus_client import start_http_server

from generator import reconcile, render, startup
from generator.kube import Kube
from generator.metrics import Metrics, RunCounter
from generator.runtime import Runtime
from generator.world import World
from runner import api

logger = logging.getLogger(__name__)

AGENTS = ("kagent.dev", "v1alpha2", "agents")
SANDBOXAGENTS = ("kagent.dev", "v1alpha2", "sandboxagents")
OWNED = {api.LABEL_SCHEDULEDRUN: kopf.PRESENT}
# kopf lists every watched kind within seconds of start-up; after this, whatever only the
# operator's own start-up listing saw is known to be gone.
CONFIRM_AFTER: Final = 60.0


def _runtime(memo: Any) -> Runtime:
    runtime: Runtime = memo["runtime"]
    return runtime


@kopf.on.startup()
async def start(*, settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    startup.configure(settings)
    metrics = Metrics()
    if memo.get("metrics_port"):
        start_http_server(memo["metrics_port"], registry=metrics.registry)
    kube = await Kube.connect(metrics.api_requests)
    counter = RunCounter(metrics, started=datetime.now(UTC))
    runtime = Runtime(kube=kube, options=memo["options"], world=World(), counter=counter)
    await runtime.prefill()
    memo["runtime"] = runtime
    memo["tasks"] = [
        asyncio.create_task(runtime.rechecks.run()),
        asyncio.create_task(runtime.confirm_world_later(CONFIRM_AFTER)),
    ]


@kopf.on.cleanup()
async def stop(*, memo: Any, **_: Any) -> None:
    for task in memo["tasks"]:
        task.cancel()
    await _runtime(memo).kube.close()


@kopf.on.event(api.GROUP, api.VERSION, api.PLURAL)
async def scheduledrun_event(
    *, type: str, event: kopf.RawEvent, namespace: str | None, name: str, memo: Any, **_: Any
) -> None:
    runtime = _runtime(memo)
    runtime.world.note_scheduledrun(event["object"], present=type != "DELETED")
    if type == "DELETED":
        runtime.forget((str(namespace), name))
        return
    await runtime.reconcile(event["object"])


@kopf.on.event(*AGENTS)
@kopf.on.event(*SANDBOXAGENTS)
async def target_event(
    *, type: str, body: kopf.Body, namespace: str | None, name: str, memo: Any, **_: Any
) -> None:
    runtime = _runtime(memo)
    # Only appearing and vanishing matter (an edit of an Agent does not).
    if not runtime.world.note_target(str(namespace), body["kind"], name, type != "DELETED"):
        return
    for sr in runtime.world.scheduledruns_targeting((str(namespace), body["kind"], name)):
        await runtime.reconcile_named((str(namespace), sr))


@kopf.on.event("batch", "v1", "cronjobs", labels=OWNED)
async def cronjob_event(
    *, type: str, event: kopf.RawEvent, namespace: str | None, memo: Any, **_: Any
) -> None:
    runtime = _runtime(memo)
    body = event["object"]
    runtime.world.note_cronjob(str(namespace), body, present=type != "DELETED")
    owner = ((body.get("metadata") or {}).get("annotations") or {}).get(
        render.ANNOTATION_SCHEDULEDRUN_NAME
    )
    if type == "DELETED" and owner:  # deleted by hand: put it back (or forget a deleted owner)
        runtime.applied.pop((str(namespace), owner), None)
        await runtime.reconcile_named((str(namespace), owner))


@kopf.on.event("batch", "v1", "jobs", labels=OWNED)
async def job_event(
    *, type: str, event: kopf.RawEvent, namespace: str | None, memo: Any, **_: Any
) -> None:
    runtime = _runtime(memo)
    body = event["object"]
    runtime.world.note_job(str(namespace), body, present=type != "DELETED")
    state = reconcile.job_state(body)
    if type is None or not (type == "DELETED" or state.failed or state.complete):
        return  # running, or the initial listing (each ScheduledRun sweeps on its first event)
    label = body["metadata"]["labels"][api.LABEL_SCHEDULEDRUN]
    owner = runtime.world.scheduledrun_labelled(str(namespace), label)
    if owner is not None:
        await runtime.reconcile_named((str(namespace), owner))
