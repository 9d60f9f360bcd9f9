"""The ASGI application: one router per resource, kagent's envelope on every answer (the
framework's own errors too), the web UI, the OpenAPI document.

`create_app(config)` builds it; `scheduledrun serve` runs it on uvicorn. One connection pool to
the apiserver is shared by all requests, made at start-up and closed at shutdown; each request
gets a client of it with its caller's credentials (server.dependencies, which tests override).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException

from runner.kube import KubeError
from server import access, agents, openapi, runs, scheduledruns, webui
from server.auth import AuthMode
from server.config import ServerConfig
from server.envelope import ApiError, failure
from server.kube import connect

logger = logging.getLogger(__name__)

OPENAPI_PATH = "/api/openapi.json"


def _kube_failure(exc: KubeError) -> ApiError:
    """The apiserver's refusal as it was given; no answer (or a 5xx) is a bad gateway."""
    if exc.status == 0 or (exc.status >= 500 and exc.status not in (503, 504)):
        return ApiError(
            502, exc.reason or "BadGateway", f"the Kubernetes API failed: {exc.message}"
        )
    return ApiError(exc.status, exc.reason, exc.message)


def create_app(config: ServerConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.kube_pool = connect(config.cluster)
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
    for resource in (scheduledruns, runs, agents, access):
        app.include_router(resource.router)
    webui.install(app, config.auth_mode.value, config.ui)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return Response("ok", media_type="text/plain")

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        return Response("ok", media_type="text/plain")

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> Response:
        return failure(exc)

    @app.exception_handler(KubeError)
    async def on_kube_error(request: Request, exc: KubeError) -> Response:
        return failure(_kube_failure(exc))

    @app.exception_handler(RequestValidationError)
    async def on_bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {
                "reason": "BadRequest",
                "field": ".".join(str(part) for part in error.get("loc", ())),
                "message": str(error.get("msg", "")),
            }
            for error in exc.errors()
        ]
        listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return failure(ApiError(400, "BadRequest", listed, {"problems": problems}))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        reason = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "Error")
        return failure(ApiError(exc.status_code, reason, str(exc.detail), headers=exc.headers))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        logger.exception("%s %s failed", request.method, request.url.path)
        return failure(ApiError(500, "InternalError", "internal error (see the server's log)"))

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            base = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            app.openapi_schema = openapi.finish(base, bearer=config.auth_mode == AuthMode.CLIENT)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
    return app
