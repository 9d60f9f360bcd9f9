"""What every route needs, declared once as FastAPI dependencies: the server's configuration,
the caller's token (authentication, every route's first step) and a Kubernetes client that
calls with it. A handler names them by type (`kube: Kube`); a test swaps one with
`app.dependency_overrides[caller_kube] = ...` instead of building the app around a fake.
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from server import auth
from server.config import ServerConfig
from server.envelope import ApiError
from server.kube import KubeClient


def server_config(request: Request) -> ServerConfig:
    config: ServerConfig = request.app.state.config
    return config


Config = Annotated[ServerConfig, Depends(server_config)]


async def authenticate(request: Request, config: Config) -> str | None:
    """The caller's token (client mode; None in local mode), checked before anything else."""
    try:
        return auth.authenticate(config.auth_mode, request.method, request.headers)
    except auth.AuthError as exc:
        reason = "Unauthorized" if exc.status == 401 else "Forbidden"
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        raise ApiError(exc.status, reason, exc.message, headers=headers) from exc


Token = Annotated[str | None, Depends(authenticate)]


def kube_pool(request: Request) -> httpx.AsyncClient:
    """The connection pool to the apiserver, made at start-up (server.app)."""
    pool: httpx.AsyncClient = request.app.state.kube_pool
    return pool


def caller_kube(
    token: Token, config: Config, pool: Annotated[httpx.AsyncClient, Depends(kube_pool)]
) -> KubeClient:
    """The Kubernetes API as the caller: its token (client mode) or the kubeconfig's (local)."""
    return KubeClient(pool, token if token is not None else config.cluster.token)


Kube = Annotated[KubeClient, Depends(caller_kube)]
