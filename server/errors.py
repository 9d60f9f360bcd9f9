"""How every failure is answered and logged: kagent's envelope for the API's own refusals, the
apiserver's (passed on with their status; no answer or its 5xx is a 502), the framework's (bad
parameters are 400, as kagent answers them), and a crash (500).

A crash is caught inside the security headers (server.webui.SecurityHeaders), so its 500 carries
them like any answer, and it is logged once, here, with its traceback: nothing re-raises it to
the ASGI server to be logged again. Every other 5xx answer is logged once, with its message.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runner.kube import KubeError
from server.envelope import ApiError, failure

logger = logging.getLogger(__name__)
CRASH = ApiError(500, "InternalError", "internal error (see the server's log)")


def kube_failure(exc: KubeError) -> ApiError:
    """The apiserver's refusal as it was given; no answer (or a 5xx) is a bad gateway."""
    if exc.status == 0 or (exc.status >= 500 and exc.status not in (503, 504)):
        return ApiError(
            502, exc.reason or "BadGateway", f"the Kubernetes API failed: {exc.message}"
        )
    return ApiError(exc.status, exc.reason, exc.message)


def answer(request: Request, error: ApiError) -> Response:
    if error.status >= 500:
        logger.error("%s %s: %d %s", request.method, request.url.path, error.status, error.message)
    return failure(error)


def bad_request(exc: RequestValidationError) -> ApiError:
    problems = [
        {
            "reason": "BadRequest",
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "message": str(error.get("msg", "")),
        }
        for error in exc.errors()
    ]
    listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return ApiError(400, "BadRequest", listed, {"problems": problems})


class CrashGuard:
    """ASGI middleware: an exception no handler took becomes the 500 envelope, logged once. Once
    an answer has started (a streamed list) it cannot become a 500: the exception goes on to the
    ASGI server, which logs it and drops the connection, so the client sees a broken answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if started:
                raise
            logger.exception("%s %s failed", scope.get("method", ""), scope.get("path", ""))
            await failure(CRASH)(scope, receive, send)


def install(app: FastAPI) -> None:
    """The exception handlers and the crash guard (call before the security headers' middleware
    is added, so that it wraps this one)."""

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return answer(request, exc)

    async def on_kube_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KubeError)
        return answer(request, kube_failure(exc))

    async def on_bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return answer(request, bad_request(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        reason = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "Error")
        return answer(
            request, ApiError(exc.status_code, reason, str(exc.detail), headers=exc.headers)
        )

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(KubeError, on_kube_error)
    app.add_exception_handler(RequestValidationError, on_bad_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_middleware(CrashGuard)
