"""The operator's `/healthz` (the kubelet's liveness and readiness probes) and the probe that
feeds it: the I/O around generator/operator/health.py's verdict.

`/healthz` answers 200 with the verdict's reason while the operator hears from the API server,
and 503 with the reason (how long it has heard nothing, and the last error) when it has not for
`--health-stale-after` seconds; plain text, so `curl` and the kubelet's event both say why. The
probe lists one ScheduledRun (in each watched namespace) every `health.probe_every(stale_after)`
seconds with the operator's own client: a read the API server answers from etcd or its watch
cache, never a write, so an idle operator still writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from generator.operator import health
from generator.operator.kube import Kube
from runner.kube import KubeError

PATH: Final = "/healthz"

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass
class HealthServer:
    """`await start()`, then `await stop()`."""

    liveness: health.Liveness
    address: str
    port: int
    clock: Clock = time.monotonic
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        verdict = self.liveness.verdict(self.clock())
        return web.Response(status=200 if verdict.healthy else 503, text=verdict.reason + "\n")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(PATH, self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.address, self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def probe(kube: Kube, namespaces: Sequence[str | None]) -> None:
    """One list of at most one ScheduledRun per namespace (None: all); KubeError when the API
    server does not answer it."""
    for namespace in namespaces:
        if await kube.list_one_scheduledrun(namespace) is None:
            raise KubeError(404, "NotFound", "the ScheduledRun API is not served")


async def keep_probing(
    kube: Kube,
    liveness: health.Liveness,
    namespaces: Sequence[str | None],
    clock: Clock = time.monotonic,
) -> None:
    """Probe forever, noting each answer (or the error) in `liveness`. A probe that hangs (an API
    server that accepts connections and answers nothing) ends after one interval, as a failure."""
    every = health.probe_every(liveness.stale_after)
    was_healthy = True
    while True:
        try:
            async with asyncio.timeout(every):
                await probe(kube, namespaces)
        except (KubeError, TimeoutError) as exc:
            liveness.failed(str(exc) or f"no answer within {every:g}s")
        except Exception as exc:  # an answer not understood: a failure too, and a bug to see
            logger.exception("health probe failed")
            liveness.failed(repr(exc))
        else:
            liveness.heard(clock())
        verdict = liveness.verdict(clock())
        if verdict.healthy != was_healthy:  # one line per change, not per probe
            log = logger.info if verdict.healthy else logger.warning
            log("health: %s", verdict.reason)
            was_healthy = verdict.healthy
        await asyncio.sleep(every)
