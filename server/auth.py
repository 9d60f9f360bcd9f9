"""Who the caller is, after Argo Server's auth modes, and which requests a browser may not forge.

- `client` (the default in a cluster): the caller's `Authorization: Bearer <token>` makes every
  Kubernetes call, so the cluster's RBAC decides; the server holds no credentials of its own.
  No token: 401 before anything is asked of the cluster.
- `local` (`scheduledrun serve --auth-mode local` on a workstation): the kubeconfig's
  credentials make every call; the server listens on loopback only and answers only requests
  addressed to a loopback name (a web page cannot reach it through DNS rebinding).

In both modes a browser cannot be made to act for the user from another origin: a
state-changing request is refused when the browser says it comes from another site
(`Sec-Fetch-Site`, which a page cannot set: `same-origin` and `none` pass), or, from a browser
that does not send it, when its `Origin` is not this server's own (scheme, host and port). And
it must be JSON: a body of another type (a form, `text/plain`: what a page on another origin may
send without asking first) is refused with 415, so even a browser that sent neither header
could not forge one.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from runner.token_reviews import bearer_token


class AuthMode(enum.StrEnum):
    CLIENT = "client"
    LOCAL = "local"


LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# Sec-Fetch-Site values of a request the user's own page (or the user, typing) made.
OWN_SITE: Final = frozenset({"same-origin", "none"})
JSON: Final = "application/json"


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


def cross_origin(method: str, headers: Mapping[str, str], scheme: str) -> bool:
    """A state-changing request a browser sent for a page of another origin than this server's
    (`scheme`: the one this server is reached with; `headers`: lower-case names)."""
    if method.upper() in SAFE_METHODS:
        return False
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site.lower() not in OWN_SITE
    origin = headers.get("origin")
    if origin is None:
        return False  # not a browser (every browser sends Origin on a cross-origin write)
    sent = urlsplit(origin)
    own = (scheme.lower(), headers.get("host", "").lower())
    return (sent.scheme.lower(), sent.netloc.lower()) != own


def not_json(method: str, headers: Mapping[str, str]) -> bool:
    """A state-changing request that declares a body type other than JSON (or sends a body and
    declares none)."""
    if method.upper() in SAFE_METHODS:
        return False
    declared = headers.get("content-type")
    if declared is not None:
        return declared.split(";")[0].strip().lower() != JSON
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() != "0")


def authenticate(
    mode: AuthMode, method: str, headers: Mapping[str, str], scheme: str = "http"
) -> str | None:
    """The token to call the cluster with (None: the server's kubeconfig, local mode), or
    AuthError with the HTTP status to answer. `headers` has lower-case names. Whether the
    token is anyone's is the API server's to say (server.dependencies asks it)."""
    host = headers.get("host", "")
    if mode == AuthMode.LOCAL and not is_loopback_host(host_name(host)):
        raise AuthError(403, "local mode answers only requests to a loopback address")
    if cross_origin(method, headers, scheme):
        raise AuthError(403, "a cross-site request may not change anything")
    if not_json(method, headers):
        raise AuthError(415, f"a request that changes something must send {JSON}")
    if mode == AuthMode.LOCAL:
        return None
    found = bearer_token(headers.get("authorization"))
    if found is None:
        raise AuthError(
            401, "send a Kubernetes bearer token (visible ASCII): Authorization: Bearer <token>"
        )
    return found


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
