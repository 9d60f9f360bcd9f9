"""kopf handlers: thin adapters from watch events to the `ClusterCache` and `Controller.reconcile`.

Only event and activity handlers: they carry no progress and no "last handled" annotation, so
kopf writes nothing, and a missed event or a restart heals by the next event or the requeue
clock (level-based). The `ClusterCache` (listed at start-up, then kept current here) answers
"does the target exist", "which CronJob and Jobs exist" without API calls.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Final

import kopf

from generator.operator import kopf_settings, metrics_server, sweep
from generator.operator.cache import ClusterCache
from generator.operator.controller import Controller
from generator.operator.kube import Kube
from generator.operator.metrics import Metrics, RunCounter
from generator.operator.metrics_server import MetricsServer
from runner import api
from runner.kube import KubeError

logger = logging.getLogger(__name__)

OWNED = {api.LABEL_SCHEDULEDRUN: kopf.PRESENT}
# kopf lists every watched kind within seconds of start-up; after this, whatever only the
# operator's own start-up listing saw is known to be gone.
CONFIRM_AFTER: Final = 60.0


def _runtime(memo: Any) -> Controller:
    controller: Controller = memo["controller"]
    return controller


@kopf.on.startup()
async def start(*, settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    kopf_settings.configure(settings)
    metrics = Metrics()
    kube = await Kube.connect(metrics.api_requests)
    if memo.get("metrics_port"):
        memo["metrics_server"] = await _serve_metrics(memo, metrics, kube)
    counter = RunCounter(metrics, started=datetime.now(UTC))
    controller = Controller(
        kube=kube, options=memo["options"], cache=ClusterCache(), counter=counter
    )
    await controller.prefill()
    memo["controller"] = controller
    memo["tasks"] = [
        asyncio.create_task(controller.requeue.run()),
        asyncio.create_task(controller.confirm_cache_later(CONFIRM_AFTER)),
    ]


async def _serve_metrics(memo: Any, metrics: Metrics, kube: Kube) -> MetricsServer:
    async def authorize(token: str) -> bool:
        try:
            return await kube.may_get_metrics(token, metrics_server.PATH)
        except KubeError as exc:  # the API server could not say: refuse, and say why
            logger.warning("metrics access could not be reviewed: %s", exc)
            return False

    server = MetricsServer(
        metrics.registry,
        memo["metrics_address"],
        memo["metrics_port"],
        authorize if memo.get("metrics_secure") else None,
        memo.get("metrics_cert_dir"),
    )
    await server.start()
    return server


@kopf.on.cleanup()
async def stop(*, memo: Any, **_: Any) -> None:
    for task in memo["tasks"]:
        task.cancel()
    if memo.get("metrics_server") is not None:
        await memo["metrics_server"].stop()
    await _runtime(memo).kube.close()


@kopf.on.event(api.GROUP, api.VERSION, api.PLURAL)
async def scheduledrun_event(
    *, type: str, event: kopf.RawEvent, namespace: str | None, name: str, memo: Any, **_: Any
) -> None:
    controller = _runtime(memo)
    controller.cache.note_scheduledrun(event["object"], present=type != "DELETED")
    if type == "DELETED":
        controller.forget((str(namespace), name))
        return
    await controller.reconcile(event["object"])


@kopf.on.event(api.TARGET_GROUP, api.TARGET_VERSION, api.TARGET_KINDS["Agent"].plural)
@kopf.on.event(api.TARGET_GROUP, api.TARGET_VERSION, api.TARGET_KINDS["SandboxAgent"].plural)
async def target_event(
    *, type: str, body: kopf.Body, namespace: str | None, name: str, memo: Any, **_: Any
) -> None:
    controller = _runtime(memo)
    # Only appearing and vanishing matter (an edit of an Agent does not).
    if not controller.cache.note_target(str(namespace), body["kind"], name, type != "DELETED"):
        return
    for sr in controller.cache.scheduledruns_targeting((str(namespace), body["kind"], name)):
        await controller.reconcile_named((str(namespace), sr))


@kopf.on.event("batch", "v1", "cronjobs", labels=OWNED)
async def cronjob_event(
    *, type: str, event: kopf.RawEvent, namespace: str | None, memo: Any, **_: Any
) -> None:
    controller = _runtime(memo)
    body = event["object"]
    changed = controller.cache.note_cronjob(str(namespace), body, present=type != "DELETED")
    owner = ((body.get("metadata") or {}).get("annotations") or {}).get(
        api.ANNOTATION_SCHEDULEDRUN_NAME
    )
    if type == "DELETED":  # ScheduledRuns it kept from their CronJob name may take it now
        name = str((body.get("metadata") or {}).get("name", ""))
        for key in controller.conflicted_by(str(namespace), name):
            await controller.reconcile_named(key)
    if not owner or type is None:  # the initial listing: each ScheduledRun's own event follows
        return
    if type == "DELETED":  # deleted by hand: put it back (or forget a deleted owner)
        controller.applied.pop((str(namespace), owner), None)
        await controller.reconcile_named((str(namespace), owner))
    elif changed:  # edited (not only its status): compare it with the desired one
        await controller.reconcile_named((str(namespace), owner))


@kopf.on.event("batch", "v1", "jobs", labels=OWNED)
async def job_event(
    *, type: str, event: kopf.RawEvent, namespace: str | None, memo: Any, **_: Any
) -> None:
    controller = _runtime(memo)
    body = event["object"]
    controller.cache.note_job(str(namespace), body, present=type != "DELETED")
    state = sweep.job_state(body)
    if type is None or not (type == "DELETED" or state.failed or state.complete):
        return  # running, or the initial listing (each ScheduledRun sweeps on its first event)
    label = body["metadata"]["labels"][api.LABEL_SCHEDULEDRUN]
    owner = controller.cache.scheduledrun_labelled(str(namespace), label)
    if owner is not None:
        await controller.reconcile_named((str(namespace), owner))
