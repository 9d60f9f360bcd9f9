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

from generator.operator import health, health_server, kopf_settings, metrics_server, runtime
from generator.operator.cache import ClusterCache
from generator.operator.controller import Controller
from generator.operator.kube import Kube
from generator.operator.metrics import Metrics, RunCounter
from generator.operator.metrics_server import MetricsServer
from runner import api
from runner.kube import KubeError

logger = logging.getLogger(__name__)

# The API server sends kopf only CronJobs and Jobs with this label (kopf_settings.py); the filter
# here says the same of what the handlers are given. A foreign CronJob that holds a ScheduledRun's
# name is watched by name on its own (holders.py).
OWNED = {api.LABEL_SCHEDULEDRUN: kopf.PRESENT}
# kopf lists every watched kind within seconds of start-up; after this, whatever only the
# operator's own start-up listing saw is known to be gone.
CONFIRM_AFTER: Final = 60.0


def _event(memo: Any) -> Controller:
    """The controller, for a watch event: which is also word from the API server (health.py)."""
    shared = runtime.of(memo)
    assert shared.liveness is not None  # both set by the start-up handler, before any watch
    assert shared.controller is not None
    shared.liveness.heard(time.monotonic())
    return shared.controller


@kopf.on.startup()
async def start(*, settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    kopf_settings.configure(settings)
    shared = runtime.of(memo)
    metrics = Metrics()
    kube = await Kube.connect(metrics.api_requests)
    if shared.metrics_port:
        shared.metrics_server = await _serve_metrics(shared, metrics, kube)
    counter = RunCounter(metrics, started=datetime.now(UTC))
    controller = Controller(
        kube=kube, options=shared.options, cache=ClusterCache(), counter=counter
    )
    shared.tasks = await controller.start(CONFIRM_AFTER)
    shared.controller = controller
    # The start-up listing just succeeded: the first word from the API server.
    liveness = shared.liveness = health.Liveness(shared.health_stale_after, time.monotonic())
    if shared.health_port:
        server = health_server.HealthServer(liveness, shared.health_address, shared.health_port)
        await server.start()
        shared.health_server = server
        namespaces = shared.options.namespaces or (None,)
        probing = health_server.keep_probing(kube, liveness, namespaces)
        shared.tasks.append(asyncio.create_task(probing))


async def _serve_metrics(shared: runtime.Runtime, metrics: Metrics, kube: Kube) -> MetricsServer:
    async def authorize(token: str) -> bool:
        try:
            return await kube.may_get_metrics(token, metrics_server.PATH)
        except KubeError as exc:  # the API server could not say: refuse, and say why
            logger.warning("metrics access could not be reviewed: %s", exc)
            return False

    server = MetricsServer(
        metrics.registry,
        shared.metrics_address,
        shared.metrics_port,
        authorize if shared.metrics_secure else None,
        shared.metrics_cert_dir,
    )
    await server.start()
    return server


@kopf.on.cleanup()
async def stop(*, memo: Any, **_: Any) -> None:
    shared = runtime.of(memo)
    for task in shared.tasks:
        task.cancel()
    if shared.metrics_server is not None:
        await shared.metrics_server.stop()
    if shared.health_server is not None:
        await shared.health_server.stop()
    if shared.controller is not None:
        shared.controller.holders.stop()
        await shared.controller.kube.close()


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


@kopf.on.event("batch", "v1", "jobs", labels=OWNED)
async def job_event(*, type: str, event: kopf.RawEvent, memo: Any, **_: Any) -> None:
    await _event(memo).on_job(type, event["object"])
