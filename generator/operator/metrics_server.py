"""The operator's `/metrics` endpoint, served the way controller-runtime's secure metrics are.

Every tenant's ScheduledRun names are in the series, so with `--metrics-secure` a scrape must
carry a bearer token that the API server authenticates (TokenReview) and authorizes for `get` on
the non-resource URL `/metrics` (SubjectAccessReview): Prometheus' ServiceAccount bound to the
chart's metrics-reader ClusterRole passes, an unauthenticated request gets 401 and anyone else
403. With a certificate folder (`tls.crt`, `tls.key`) it speaks HTTPS. Answers are remembered
for a minute per token (hashed), so a scrape every 30 s costs two API requests a minute at most.
The address to listen on is the operator's setting (the chart's), not every interface.
"""

from __future__ import annotations

import hashlib
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

PATH: Final = "/metrics"
# How long an allowed or refused token is remembered: short enough that a revoked binding stops
# scrapes within a minute, long enough that each scrape does not cost two API requests.
DECISION_TTL: Final = 60.0
DECISIONS_MAX: Final = 256  # distinct scrapers remembered at once

# token -> whether the API server says its holder may GET /metrics
Authorize = Callable[[str], Awaitable[bool]]


@dataclass
class Decisions:
    """Recent answers of the API server per token (by its sha256), bounded and expiring."""

    clock: Callable[[], float] = time.monotonic
    answers: dict[str, tuple[bool, float]] = field(default_factory=dict)

    def get(self, token: str) -> bool | None:
        key = hashlib.sha256(token.encode("utf-8")).hexdigest()
        found = self.answers.get(key)
        if found is None or found[1] < self.clock():
            self.answers.pop(key, None)
            return None
        return found[0]

    def put(self, token: str, allowed: bool) -> None:
        key = hashlib.sha256(token.encode("utf-8")).hexdigest()
        self.answers[key] = (allowed, self.clock() + DECISION_TTL)
        while len(self.answers) > DECISIONS_MAX:
            del self.answers[next(iter(self.answers))]


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def tls_context(cert_dir: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_dir / "tls.crt", cert_dir / "tls.key")
    return context


@dataclass
class MetricsServer:
    """`await start()`, then `await stop()`. `authorize` None: no authentication (insecure)."""

    registry: CollectorRegistry
    address: str
    port: int
    authorize: Authorize | None = None
    cert_dir: Path | None = None
    decisions: Decisions = field(default_factory=Decisions)
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        if self.authorize is not None:
            token = bearer_token(request.headers.get("Authorization"))
            if token is None:
                return web.Response(status=401, text="Unauthorized: a bearer token is required\n")
            allowed = self.decisions.get(token)
            if allowed is None:
                allowed = await self.authorize(token)
                self.decisions.put(token, allowed)
            if not allowed:
                return web.Response(status=403, text=f"Forbidden: may not get {PATH}\n")
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(PATH, self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        context = tls_context(self.cert_dir) if self.cert_dir is not None else None
        site = web.TCPSite(self.runner, self.address, self.port, ssl_context=context)
        await site.start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
