"""kopf handlers: thin adapters, each one call into the `Controller` (controller.py).

Only event and activity handlers: they carry no progress and no "last handled" annotation, so
kopf writes nothing, and a missed event or a restart heals by the next event or the requeue
clock (level-based). The `ClusterCache` (listed at start-up, then kept current here) answers
"does the target exist", "which CronJob and Jobs exist" without API calls. Each watch event is
also word from the API server for `/healthz` (health.py, served by health_server.py in place of
kopf's own liveness endpoint, which answers as long as the process runs).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any, Final

import kopf

from generator.operator import health, health_server, kopf_settings, metrics_server
from generator.operator.cache import ClusterCache
from generator.operator.controller import Controller
from generator.operator.kube import Kube
from generator.operator.metrics import Metrics, RunCounter
from generator.operator.metrics_server import MetricsServer
from runner import api
from runner.kube import KubeError

logger = logging.getLogger(__name__)

OWNED = {api.LABEL_SCHEDULEDRUN: kopf.PRESENT}
# Every other CronJob: only its deletion matters (the name may be free for a ScheduledRun that a
# foreign CronJob kept from it), and nothing of it is kept. kopf's CronJob watch is not filtered
# by the API server, so this costs no stream and no listing of its own.
UNLABELLED = {api.LABEL_SCHEDULEDRUN: kopf.ABSENT}
# kopf lists every watched kind within seconds of start-up; after this, whatever only the
# operator's own start-up listing saw is known to be gone.
CONFIRM_AFTER: Final = 60.0


def _runtime(memo: Any) -> Controller:
    controller: Controller = memo["controller"]
    return controller


def _event(memo: Any) -> Controller:
    """The controller, for a watch event: which is also word from the API server (health.py)."""
    liveness: health.Liveness = memo["liveness"]
    liveness.heard(time.monotonic())
    return _runtime(memo)


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
    memo["tasks"] = await controller.start(CONFIRM_AFTER)
    memo["controller"] = controller
    # The start-up listing just succeeded: the first word from the API server.
    liveness = memo["liveness"] = health.Liveness(memo["health_stale_after"], time.monotonic())
    if memo.get("health_port"):
        server = health_server.HealthServer(liveness, memo["health_address"], memo["health_port"])
        await server.start()
        memo["health_server"] = server
        namespaces = memo["options"].namespaces or (None,)
        probing = health_server.keep_probing(kube, liveness, namespaces)
        memo["tasks"].append(asyncio.create_task(probing))


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
    if memo.get("health_server") is not None:
        await memo["health_server"].stop()
    await _runtime(memo).kube.close()


@kopf.on.event(api.GROUP, api.VERSION, api.PLURAL)
async def scheduledrun_event(*, type: str, event: kopf.RawEvent, memo: Any, **_: Any) -> None:
    await _event(memo).on_scheduledrun(type, event["object"])


@kopf.on.event(api.TARGET_GROUP, api.TARGET_VERSION, api.TARGET_KINDS["Agent"].plural)
@kopf.on.event(api.TARGET_GROUP, api.TARGET_VERSION, api.TARGET_KINDS["SandboxAgent"].plural)
async def target_event(
    *, type: str, body: kopf.Body, namespace: str | None, name: str, memo: Any, **_: Any
) -> None:
    await _event(memo).on_target(type, str(namespace), body["kind"], name)


@kopf.on.event("batch", "v1", "cronjobs", labels=OWNED)
async def cronjob_event(*, type: str, event: kopf.RawEvent, memo: Any, **_: Any) -> None:
    await _event(memo).on_cronjob(type, event["object"])


@kopf.on.event("batch", "v1", "cronjobs", labels=UNLABELLED)
async def unlabelled_cronjob_event(*, type: str, event: kopf.RawEvent, memo: Any, **_: Any) -> None:
    await _event(memo).on_unlabelled_cronjob(type, event["object"])


@kopf.on.event("batch", "v1", "jobs", labels=OWNED)
async def job_event(*, type: str, event: kopf.RawEvent, memo: Any, **_: Any) -> None:
    await _event(memo).on_job(type, event["object"])
