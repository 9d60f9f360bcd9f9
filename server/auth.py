"""Who the caller is, after Argo Server's auth modes, and which requests a browser may not forge.

- `client` (the default in a cluster): the caller's `Authorization: Bearer <token>` makes every
  Kubernetes call, so the cluster's RBAC decides; the server holds no credentials of its own.
  No token: 401 before anything is asked of the cluster.
- `local` (`scheduledrun serve --auth-mode local` on a workstation): the kubeconfig's
  credentials make every call; the server listens on loopback only and answers only requests
  addressed to a loopback name (a web page cannot reach it through DNS rebinding).

In both modes a state-changing request whose `Origin` is another site is refused, so no page
on another origin can act for the user (a browser always sends `Origin` on such requests).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit


class AuthMode(enum.StrEnum):
    CLIENT = "client"
    LOCAL = "local"


LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = (headers.get("authorization") or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def is_loopback_host(host: str) -> bool:
    """Whether `host` (an address or name, no port) is this machine's loopback."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The name part of a Host header: `[::1]:8080` -> `::1`, `localhost:80` -> `localhost`."""
    return urlsplit(f"//{host_header}").hostname or ""


def cross_origin(method: str, origin: str | None, host_header: str) -> bool:
    """A state-changing request sent by a page of another origin than this server's."""
    if method.upper() in SAFE_METHODS or not origin:
        return False
    return urlsplit(origin).netloc.lower() != host_header.lower()


def authenticate(mode: AuthMode, method: str, headers: Mapping[str, str]) -> str | None:
    """The token to call the cluster with (None: the server's kubeconfig, local mode), or
    AuthError with the HTTP status to answer. `headers` has lower-case names."""
    host = headers.get("host", "")
    if mode == AuthMode.LOCAL and not is_loopback_host(host_name(host)):
        raise AuthError(403, "local mode answers only requests to a loopback address")
    if cross_origin(method, headers.get("origin"), host):
        raise AuthError(403, "a cross-site request may not change anything")
    if mode == AuthMode.LOCAL:
        return None
    found = bearer_token(headers)
    if found is None:
        raise AuthError(401, "send a Kubernetes bearer token: Authorization: Bearer <token>")
    return found


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
