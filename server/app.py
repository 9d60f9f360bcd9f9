"""The ASGI application: one router per resource, kagent's envelope on every answer (the
framework's own errors too), the web UI, the OpenAPI document.

`create_app(config)` builds it; `scheduledrun serve` runs it on uvicorn. One connection pool to
the apiserver is shared by all requests, made at start-up and closed at shutdown; each request
gets a client of it with its caller's credentials (server.dependencies, which tests override).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import CapacityLimiter
from fastapi import FastAPI, Response
from fastapi.openapi.utils import get_openapi

from runner.token_reviews import TokenReviews
from server import access, agents, errors, openapi, runs, scheduledruns, webui
from server.auth import AuthMode
from server.config import ServerConfig
from server.dependencies import CPU_SLOTS
from server.gates import ListGate
from server.kube import connect

OPENAPI_PATH = "/api/openapi.json"


def create_app(config: ServerConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.kube_pool = connect(config.cluster)
        app.state.cpu = CapacityLimiter(CPU_SLOTS)
        try:
            yield
        finally:
            await app.state.kube_pool.aclose()

    app = FastAPI(
        title="kagent-scheduledrun",
        version="0.1.0",
        summary="ScheduledRuns over HTTP: kagent's routes, the cluster's own authentication "
        "and RBAC",
        openapi_url=OPENAPI_PATH,
        docs_url=None,  # Swagger UI would load its assets from another origin
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.token_reviews = TokenReviews()
    app.state.lists = ListGate()
    for resource in (scheduledruns, runs, agents, access):
        app.include_router(resource.router)
    errors.install(app)  # first: the security headers' middleware wraps its crash guard
    webui.install(app, config.auth_mode.value, config.ui)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return Response("ok", media_type="text/plain")

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        return Response("ok", media_type="text/plain")

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            base = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            app.openapi_schema = openapi.finish(base, bearer=config.auth_mode == AuthMode.CLIENT)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
    return app
