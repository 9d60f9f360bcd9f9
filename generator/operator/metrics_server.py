"""The operator's `/metrics` endpoint, served the way controller-runtime's secure metrics are.

Every tenant's ScheduledRun names are in the series, so with `--metrics-secure` a scrape must
carry a bearer token that the API server authenticates (TokenReview) and authorizes for `get` on
the non-resource URL `/metrics` (SubjectAccessReview): Prometheus' ServiceAccount bound to the
chart's metrics-reader ClusterRole passes, an unauthenticated request gets 401 and anyone else
403. With a certificate folder (`tls.crt`, `tls.key`) it speaks HTTPS. Answers are remembered
per token (runner.token_reviews: allowed for a minute, refused briefly, hashed), so a scrape
every 30 s costs two API requests a minute at most, and tokens never seen are reviewed at a
bounded rate: a flood of distinct garbage tokens gets 429 beyond it, not a review each.
The address to listen on is the operator's setting (the chart's), not every interface.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from runner.token_reviews import TokenReviews, bearer_token

PATH: Final = "/metrics"
# token -> whether the API server says its holder may GET /metrics
Authorize = Callable[[str], Awaitable[bool]]


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
    reviews: TokenReviews = field(default_factory=TokenReviews)
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        if self.authorize is not None:
            token = bearer_token(request.headers.get("Authorization"))
            if token is None:
                return web.Response(status=401, text="Unauthorized: a bearer token is required\n")
            allowed = self.reviews.remembered(token)
            if allowed is None:
                if not self.reviews.may_review():
                    wait = str(self.reviews.retry_after())
                    text = "Too many tokens to review: try again later\n"
                    return web.Response(status=429, text=text, headers={"Retry-After": wait})
                allowed = await self.authorize(token)
                self.reviews.remember(token, allowed)
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
