"""What every route needs, declared once as FastAPI dependencies: the server's configuration,
the caller's token (authentication, every route's first step) and a Kubernetes client that
calls with it. A handler names them by type (`kube: Kube`); a test swaps one with
`app.dependency_overrides[caller_kube] = ...` instead of building the app around a fake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final, TypeVar

import httpx
from anyio import CapacityLimiter, to_thread
from fastapi import Depends, Query, Request

from runner.token_reviews import TokenReviews
from server import auth
from server.config import ServerConfig
from server.envelope import ApiError
from server.gates import ListGate
from server.kube import KubeClient


def server_config(request: Request) -> ServerConfig:
    config: ServerConfig = request.app.state.config
    return config


Config = Annotated[ServerConfig, Depends(server_config)]


def kagent_user_id(
    user_id: Annotated[
        str | None,
        Query(
            max_length=256,
            description="kagent's user id, which kagent's UI sends on every request; accepted "
            "on every route (the cluster, through the caller's token, decides what it may do)",
        ),
    ] = None,
) -> str | None:
    return user_id


KagentUser = Annotated[str | None, Depends(kagent_user_id)]


def kube_pool(request: Request) -> httpx.AsyncClient:
    """The connection pool to the apiserver, made at start-up (server.app)."""
    pool: httpx.AsyncClient = request.app.state.kube_pool
    return pool


Pool = Annotated[httpx.AsyncClient, Depends(kube_pool)]


def token_reviews(request: Request) -> TokenReviews:
    """What the API server said of recent tokens (one memory per app)."""
    reviews: TokenReviews = request.app.state.token_reviews
    return reviews


async def authenticate(
    request: Request,
    config: Config,
    pool: Pool,
    reviews: Annotated[TokenReviews, Depends(token_reviews)],
) -> str | None:
    """Every route's first step: the caller's token (client mode; None in local mode), read
    from the request and accepted by the API server (remembered: runner.token_reviews), before
    any other work is done for the request."""
    try:
        token = auth.authenticate(
            config.auth_mode, request.method, request.headers, request.url.scheme
        )
    except auth.AuthError as exc:
        reason = {401: "Unauthorized", 415: "UnsupportedMediaType"}.get(exc.status, "Forbidden")
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        raise ApiError(exc.status, reason, exc.message, headers=headers) from exc
    if token is None:
        return None
    known = reviews.remembered(token)
    if known is None:
        if not reviews.may_review():
            raise ApiError(
                429,
                "TooManyRequests",
                "too many new tokens to review: try again later",
                headers={"Retry-After": str(reviews.retry_after())},
            )
        known = await KubeClient(pool, token).authenticated()
        reviews.remember(token, known)
    if not known:
        raise ApiError(
            401,
            "Unauthorized",
            "the cluster does not accept this token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token


Token = Annotated[str | None, Depends(authenticate)]


def caller_kube(token: Token, config: Config, pool: Pool) -> KubeClient:
    """The Kubernetes API as the caller: its token (client mode) or the kubeconfig's (local)."""
    return KubeClient(pool, token if token is not None else config.cluster.token)


Kube = Annotated[KubeClient, Depends(caller_kube)]


# Schedule arithmetic (validate, next) runs in worker threads, at most this many at once (the
# server's CPU limit is one or two cores), so the event loop keeps answering (/healthz too)
# while it runs; more requests wait their turn.
CPU_SLOTS: Final = 2
T = TypeVar("T")


def cpu_limiter(request: Request) -> CapacityLimiter:
    limiter: CapacityLimiter = request.app.state.cpu
    return limiter


class CpuWork:
    """Runs CPU-heavy pure work off the event loop, bounded by the app's CPU_SLOTS."""

    def __init__(self, limiter: Annotated[CapacityLimiter, Depends(cpu_limiter)]) -> None:
        self.limiter = limiter

    async def run(self, work: Callable[..., T], *args: object) -> T:
        return await to_thread.run_sync(work, *args, limiter=self.limiter)


Cpu = Annotated[CpuWork, Depends()]


def list_gate(request: Request) -> ListGate:
    gate: ListGate = request.app.state.lists
    return gate


Lists = Annotated[ListGate, Depends(list_gate)]


# Every router's dependencies: the caller authenticated first, kagent's `user_id` accepted.
ROUTE_NEEDS: Final = [Depends(authenticate), Depends(kagent_user_id)]
