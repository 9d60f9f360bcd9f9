"""The few Kubernetes API calls the runner makes, over httpx.

The runner starts in a fresh pod on every tick, so it cannot afford the `kubernetes` client's
import time and memory for three calls: read the ScheduledRun, read its Job, patch the status.

Credentials: in a pod, the service-account folder (token, ca.crt; overridable with
SCHEDULEDRUN_SERVICEACCOUNT_DIR) and KUBERNETES_SERVICE_HOST/PORT; otherwise the kubeconfig in
KUBECONFIG or ~/.kube/config (client certificate, token, CA; files or inline data).

Status writes use optimistic concurrency: a JSON merge patch that carries
`metadata.resourceVersion`, so the API server answers 409 Conflict when someone wrote in
between; the writer then re-reads, recomputes with its pure `mutate(status)` and tries again
after a jittered backoff. Concurrent runners on one ScheduledRun therefore lose no write.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import ssl
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Self

import httpx

from runner import api
from runner.transport import StdlibTransport

Mutate = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


class KubeError(Exception):
    """A Kubernetes API call failed: the one error of every Kubernetes client in this project
    (runner, operator, REST API). `status` is the HTTP code, 0 when no answer arrived; `reason`
    the apiserver's reason (`NotFound`, `Conflict`, ...) or a word for what failed without one;
    `message` what it said, or what went wrong."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @classmethod
    def of_answer(cls, status: int, text: str, context: str = "") -> Self:
        """The error of an answer of 400 or more: the reason and message of the apiserver's
        Status object when the body is one, else the status line's word and the body's start.
        `context` (say, the method and path) goes in front of the message."""
        reason, message = HTTPStatus(status).phrase if status in _KNOWN else "Error", text[:500]
        with contextlib.suppress(ValueError):
            body = json.loads(text)
            if isinstance(body, dict):
                reason = str(body.get("reason") or reason)
                message = str(body.get("message") or message)
        return cls(status, reason, f"{context}: {message}" if context else message)


_KNOWN = frozenset(code.value for code in HTTPStatus)


class ConfigError(KubeError):
    """No usable credentials for the Kubernetes API."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "NoCredentials", message)


def segment(name: str) -> str:
    """One path segment from a name: every character outside the unreserved set escaped, so a
    name read from an object (a history entry's id, say) can never climb to another path."""
    if name in ("", ".", ".."):  # a URL library would resolve these as a path would
        raise KubeError(400, "BadRequest", f"{name!r} is not an object name")
    return urllib.parse.quote(name, safe="")


def scheduledruns_path(namespace: str | None) -> str:
    """The ScheduledRuns of `namespace`, or of every namespace when it is None or empty."""
    where = f"/namespaces/{segment(namespace)}" if namespace else ""
    return f"/apis/{api.GROUP}/{api.VERSION}{where}/{api.PLURAL}"


def scheduledrun_path(namespace: str, name: str) -> str:
    """The one ScheduledRun's path, both names escaped: every client here builds it so."""
    ns, n = segment(namespace), segment(name)
    return f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{ns}/{api.PLURAL}/{n}"


@dataclass(frozen=True)
class Credentials:
    server: str
    ssl_context: ssl.SSLContext
    token: str | None = None


def _ssl_context(ca_file: str | None, ca_data: bytes | None, insecure: bool) -> ssl.SSLContext:
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_file or ca_data:
        return ssl.create_default_context(
            cafile=ca_file, cadata=ca_data.decode() if ca_data else None
        )
    return ssl.create_default_context()


def in_cluster_credentials(env: Mapping[str, str]) -> Credentials | None:
    """The pod's service-account credentials, or None when not in a pod."""
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    folder = Path(env.get(api.ENV_SERVICEACCOUNT_DIR) or api.DEFAULT_SERVICEACCOUNT_DIR)
    token_file = folder / "token"
    if not host or not port or not token_file.is_file():
        return None
    ca_file = folder / "ca.crt"
    host = f"[{host}]" if ":" in host else host
    return Credentials(
        server=f"https://{host}:{port}",
        ssl_context=_ssl_context(str(ca_file) if ca_file.is_file() else None, None, False),
        token=token_file.read_text().strip(),
    )


def _load_kubeconfig(path: Path) -> dict[str, Any]:
    text = path.read_text()
    if text.lstrip().startswith("{"):
        loaded = json.loads(text)
    else:
        try:
            import yaml  # only for local runs: a pod uses its service account
        except ImportError as exc:
            raise ConfigError(
                f"reading the YAML kubeconfig {path} needs PyYAML (pip install pyyaml)"
            ) from exc
        loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ConfigError(f"kubeconfig {path} is not a mapping")
    return loaded


def _named(items: object, name: object, key: str) -> dict[str, Any]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get(key), dict):
            return dict(item[key])
    raise ConfigError(f"kubeconfig has no {key} named {name!r}")


def _material(section: Mapping[str, Any], key: str, base: Path) -> tuple[str | None, bytes | None]:
    """(file path, inline bytes) of a kubeconfig item such as `certificate-authority`."""
    data = section.get(f"{key}-data")
    if data:
        return None, base64.b64decode(data)
    file = section.get(key)
    if file:
        return str((base / str(file)).resolve()), None
    return None, None


def _as_file(path: str | None, data: bytes | None, folder: Path) -> str | None:
    if data is None:
        return path
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as handle:
        handle.write(data)
    return handle.name


def _current(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(context, cluster) of a kubeconfig's current context."""
    context = _named(config.get("contexts"), config.get("current-context"), "context")
    return context, _named(config.get("clusters"), context.get("cluster"), "cluster")


def _cluster_of(cluster: Mapping[str, Any], path: Path) -> tuple[str, ssl.SSLContext]:
    ca_file, ca_data = _material(cluster, "certificate-authority", path.parent)
    ssl_context = _ssl_context(ca_file, ca_data, bool(cluster.get("insecure-skip-tls-verify")))
    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        raise ConfigError(f"kubeconfig {path}: cluster has no server")
    return server.rstrip("/"), ssl_context


def kubeconfig_cluster(path: Path) -> Credentials:
    """Where the kubeconfig's current context's apiserver is and how to trust it: its address
    and CA only, none of the user's credentials (for a server whose callers bring their own)."""
    server, ssl_context = _cluster_of(_current(_load_kubeconfig(path))[1], path)
    return Credentials(server=server, ssl_context=ssl_context)


def kubeconfig_credentials(path: Path) -> Credentials:
    """Credentials of the kubeconfig's current context."""
    config = _load_kubeconfig(path)
    context, cluster = _current(config)
    user = _named(config.get("users"), context.get("user"), "user")
    base = path.parent
    server, ssl_context = _cluster_of(cluster, path)
    cert_file, cert_data = _material(user, "client-certificate", base)
    key_file, key_data = _material(user, "client-key", base)
    if cert_file or cert_data:
        with tempfile.TemporaryDirectory() as scratch:
            ssl_context.load_cert_chain(
                _as_file(cert_file, cert_data, Path(scratch)) or "",
                _as_file(key_file, key_data, Path(scratch)),
            )
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(str(user["tokenFile"])).read_text().strip()
    return Credentials(server=server, ssl_context=ssl_context, token=token or None)


def kubeconfig_path(env: Mapping[str, str]) -> Path | None:
    """The kubeconfig kubectl would read: the first file of KUBECONFIG, else ~/.kube/config."""
    candidates = [Path(p) for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    candidates.append(Path.home() / ".kube" / "config")
    return next((c for c in candidates if c.is_file()), None)


def load_credentials(env: Mapping[str, str] | None = None) -> Credentials:
    """In-cluster credentials when running in a pod, else the kubeconfig."""
    env = os.environ if env is None else env
    found = in_cluster_credentials(env)
    if found is not None:
        return found
    path = kubeconfig_path(env)
    if path is not None:
        return kubeconfig_credentials(path)
    raise ConfigError(
        "no Kubernetes credentials: not in a pod (no service-account token and"
        " KUBERNETES_SERVICE_HOST) and no kubeconfig (KUBECONFIG or ~/.kube/config)"
    )


class KubeClient:
    """ScheduledRun and Job reads and conflict-safe status patches."""

    def __init__(
        self,
        credentials: Credentials,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "kagent-scheduledrun-runner"}
        if credentials.token:
            headers["Authorization"] = f"Bearer {credentials.token}"
        self.http = httpx.Client(
            base_url=credentials.server,
            verify=credentials.ssl_context,
            headers=headers,
            timeout=timeout,
            # tests give an in-memory API server here
            transport=transport or StdlibTransport(credentials.ssl_context, repeat_on_stale=True),
        )

    def close(self) -> None:
        self.http.close()

    def limit(self, timeout: float) -> None:
        """Bound every later request to `timeout` seconds (the runner's stop after SIGTERM)."""
        self.http.timeout = httpx.Timeout(timeout)

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            detail = f"{method} {path}: {exc or type(exc).__name__}"
            raise KubeError(0, "Unreachable", detail) from exc
        if response.status_code >= 400:
            raise KubeError.of_answer(response.status_code, response.text, f"{method} {path}")
        body = response.json()
        if not isinstance(body, dict):
            raise KubeError(0, "BadAnswer", f"{method} {path}: the answer is not an object")
        return body

    def get_scheduledrun(self, namespace: str, name: str) -> dict[str, Any]:
        return self._request("GET", scheduledrun_path(namespace, name))

    def get_job(self, namespace: str, name: str) -> dict[str, Any]:
        return self._request(
            "GET", f"/apis/batch/v1/namespaces/{segment(namespace)}/jobs/{segment(name)}"
        )

    def update_status(
        self,
        namespace: str,
        name: str,
        mutate: Mutate,
        current: Mapping[str, Any] | None = None,
        budget: float = 120.0,
    ) -> dict[str, Any]:
        """Apply `mutate(status)` (the status fields to set; None: nothing to write) until it
        lands without a conflict; returns the object as the API server stored it.

        `current` is a fresh read to start from (saves a GET). Conflicts are retried with full
        jitter backoff (50 ms doubling to 1 s) for up to `budget` seconds.
        """
        path = scheduledrun_path(namespace, name)
        deadline = time.monotonic() + budget
        attempt = 0
        obj = dict(current) if current is not None else self.get_scheduledrun(namespace, name)
        while True:
            changes = mutate(obj.get("status") or {})
            if changes is None:
                return obj
            patch = {
                "metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]},
                "status": dict(changes),
            }
            try:
                return self._request(
                    "PATCH",
                    f"{path}/status",
                    content=json.dumps(patch),
                    headers={"Content-Type": "application/merge-patch+json"},
                )
            except KubeError as exc:
                if exc.status != 409 or time.monotonic() > deadline:
                    raise
            attempt += 1
            time.sleep(random.uniform(0, min(1.0, 0.05 * 2**attempt)))
            obj = self.get_scheduledrun(namespace, name)
