"""Every call the REST API makes to the Kubernetes API, through one async httpx client.

The one seam between the server and the cluster: routes call the methods below, unit tests
replace exactly this class (through the `caller_kube` dependency, server.dependencies). One
`httpx.AsyncClient` (`connect`, its connection pool) serves every request; a `KubeClient` is that
pool with one caller's credentials: in `client` auth mode the caller's bearer token (the server
has none of its own), in `local` mode the kubeconfig's.
Any answer of 400 or more becomes a `KubeError` holding the apiserver's status code, reason and
message, so the routes can pass the cluster's refusal on as it was given.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
import orjson

from runner import api
from runner.kube import KubeError, scheduledrun_path, scheduledruns_path, segment
from server.listjson import ListSplitter

MERGE_PATCH: Final = "application/merge-patch+json"
LIST_PAGE: Final = 500  # kubectl's own chunk size for lists
# A page that is decoded whole: small, since a tenant's objects may carry 250 KB annotations.
SLIM_PAGE: Final = 20
ERROR_BODY_MAX: Final = 64 * 1024  # an apiserver's refusal (a Status) is far shorter
# A streamed list is sent on in pieces of about this size: the network's chunks are TLS records
# (16 KiB), and sending each alone costs the event loop more than the copy of a larger piece.
STREAM_PIECE: Final = 256 * 1024
# Enough parallel requests for a page of the UI (list + agents + history); the apiserver's own
# max-in-flight limits protect it from more.
MAX_CONNECTIONS: Final = 32
TIMEOUT: Final = 30.0


@dataclass(frozen=True)
class Cluster:
    """Where the apiserver is and how to trust it; `token` only in local mode (the kubeconfig's);
    a client certificate, if any, lives in `ssl_context`."""

    server: str
    ssl_context: ssl.SSLContext
    token: str | None = None


async def _bounded_text(answer: httpx.Response) -> str:
    body = bytearray()
    async for chunk in answer.aiter_raw():
        body += chunk[: ERROR_BODY_MAX - len(body)]
        if len(body) >= ERROR_BODY_MAX:
            break
    return body.decode("utf-8", "replace")


def _batch(namespace: str) -> str:
    return f"/apis/batch/v1/namespaces/{segment(namespace)}"


def dumps(value: Any) -> bytes:
    """JSON bytes; the standard library for what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value).encode()


def connect(
    cluster: Cluster, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The connection pool every request shares (`await pool.aclose()` when done); it holds no
    credentials, so a request can only ever send its own caller's."""
    return httpx.AsyncClient(
        base_url=cluster.server,
        verify=cluster.ssl_context,
        timeout=TIMEOUT,
        headers={"Accept": "application/json", "User-Agent": "kagent-scheduledrun-server"},
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
        transport=transport,
    )


class KubeClient:
    """The Kubernetes API as one caller: `http` the shared pool, `token` the bearer token every
    call sends (client mode: the caller's; local mode: the kubeconfig's; None: no token, the
    pool's client certificate if any)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        headers = self._credentials()
        content = None
        if body is not None:
            content = dumps(body)
            headers["Content-Type"] = content_type
        try:
            response = await self.http.request(
                method, path, params=dict(params or {}), content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise KubeError(0, "Unreachable", f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 400:
            raise KubeError.of_answer(response.status_code, response.text)
        try:
            decoded = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError as exc:
            raise KubeError(0, "BadAnswer", f"{method} {path}: the answer is not JSON") from exc
        if not isinstance(decoded, dict):
            raise KubeError(0, "BadAnswer", f"{method} {path}: the answer is not an object")
        return decoded

    def _credentials(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def stream_list(self, path: str) -> AsyncIterator[bytes]:
        """Every item of a list as the apiserver's JSON bytes, streamed: pieces of the items'
        comma-separated bytes as they arrive, an empty piece at the start of each page (a
        boundary: the pages' items join with a comma). A refusal of the first page is raised
        before anything is yielded. Whatever the objects' size, it holds a chunk and
        server.listjson.HOLD bytes at a time; the body is asked for uncompressed, so a chunk is
        what the network carried."""
        params = {"limit": str(LIST_PAGE)}
        headers = {**self._credentials(), "Accept-Encoding": "identity"}
        while True:
            splitter = ListSplitter()
            try:
                async with self.http.stream("GET", path, params=params, headers=headers) as answer:
                    if answer.status_code >= 400:
                        refusal = await _bounded_text(answer)
                        raise KubeError.of_answer(answer.status_code, refusal)
                    yield b""
                    pending = bytearray()
                    async for chunk in answer.aiter_raw():
                        pending += splitter.feed(chunk)
                        if len(pending) >= STREAM_PIECE:
                            yield bytes(pending)
                            pending.clear()
                    if pending:
                        yield bytes(pending)
            except httpx.HTTPError as exc:
                raise KubeError(0, "Unreachable", f"GET {path}: {exc!r}") from exc
            try:
                last, metadata = splitter.finish()
            except ValueError as exc:
                raise KubeError(0, "BadAnswer", f"GET {path}: the answer is not a list") from exc
            if last:
                yield last
            following = metadata.get("continue")
            if not following:
                return
            params["continue"] = str(following)

    async def list_slim(
        self, path: str, slim: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Every item of a list reduced by `slim` as each small page arrives (SLIM_PAGE items),
        so only one page of whole objects is ever decoded at once."""
        params = {"limit": str(SLIM_PAGE)}
        items: list[dict[str, Any]] = []
        while True:
            page = await self.request("GET", path, params=params)
            items.extend(slim(item) for item in page.get("items") or [] if isinstance(item, dict))
            following = (page.get("metadata") or {}).get("continue")
            if not following:
                return items
            params["continue"] = str(following)

    async def list_all(self, path: str, selector: str | None = None) -> list[dict[str, Any]]:
        """Every item of a list, fetched in kubectl-sized pages."""
        params = {"limit": str(LIST_PAGE)}
        if selector:
            params["labelSelector"] = selector
        items: list[dict[str, Any]] = []
        while True:
            page = await self.request("GET", path, params=params)
            items.extend(page.get("items") or [])
            following = (page.get("metadata") or {}).get("continue")
            if not following:
                return items
            params["continue"] = str(following)

    # ScheduledRuns

    def stream_scheduledruns(self, namespace: str | None) -> AsyncIterator[bytes]:
        """ScheduledRuns as JSON bytes, streamed (stream_list): a tenant's list may be large."""
        return self.stream_list(scheduledruns_path(namespace))

    async def get_scheduledrun(self, namespace: str, name: str) -> dict[str, Any]:
        return await self.request("GET", scheduledrun_path(namespace, name))

    async def create_scheduledrun(self, namespace: str, obj: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", scheduledruns_path(namespace), body=obj)

    async def replace_scheduledrun(
        self, namespace: str, name: str, obj: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PUT: the apiserver answers 409 when `obj`'s resourceVersion is not the current one."""
        return await self.request("PUT", scheduledrun_path(namespace, name), body=obj)

    async def patch_scheduledrun(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        path = scheduledrun_path(namespace, name)
        return await self.request("PATCH", path, body=patch, content_type=MERGE_PATCH)

    async def delete_scheduledrun(
        self, namespace: str, name: str, resource_version: str | None
    ) -> dict[str, Any]:
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if resource_version:
            options["preconditions"] = {"resourceVersion": resource_version}
        return await self.request("DELETE", scheduledrun_path(namespace, name), body=options)

    # CronJobs and Jobs

    async def get_cronjob(self, namespace: str, name: str) -> dict[str, Any]:
        path = f"{_batch(namespace)}/cronjobs/{segment(name)}"
        return await self.request("GET", path)

    async def list_jobs(self, namespace: str, selector: str) -> list[Any]:
        return await self.list_all(f"{_batch(namespace)}/jobs", selector)

    async def get_job(self, namespace: str, name: str) -> dict[str, Any]:
        return await self.request("GET", f"{_batch(namespace)}/jobs/{segment(name)}")

    async def create_job(self, namespace: str, job: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", f"{_batch(namespace)}/jobs", body=job)

    async def delete_job(self, namespace: str, name: str) -> None:
        options = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        path = f"{_batch(namespace)}/jobs/{segment(name)}"
        await self.request("DELETE", path, body=options)

    # Agents

    async def list_targets(self, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        """Agents or SandboxAgents (`plural`), the kinds a ScheduledRun may target."""
        where = f"/namespaces/{segment(namespace)}" if namespace else ""
        path = f"/apis/{api.TARGET_GROUP}/{api.TARGET_VERSION}{where}/{plural}"
        return await self.list_all(path)

    # Who is asking, and where may they look

    async def list_namespaces(self) -> list[str]:
        items = await self.list_all("/api/v1/namespaces")
        return [str(item["metadata"]["name"]) for item in items]

    async def can_i(self, namespace: str, group: str, resource: str, verb: str) -> bool:
        """Whether the caller may `verb` `resource` in `namespace` (SelfSubjectAccessReview,
        which every authenticated user may create)."""
        attributes = {"namespace": namespace, "group": group, "resource": resource, "verb": verb}
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        answer = await self.request(
            "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review
        )
        return (answer.get("status") or {}).get("allowed") is True

    async def authenticated(self) -> bool:
        """Whether the API server accepts this client's token at all: a SelfSubjectReview, which
        needs no permission (the server in client mode has none to make a TokenReview), answered
        401 for a token that is no one's. KubeError when the API server cannot say."""
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            await self.request(
                "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review
            )
        except KubeError as exc:
            if exc.status == 401:
                return False
            if exc.status == 403:  # authenticated, only not allowed to review itself
                return True
            raise
        return True

    async def username(self) -> str:
        """The caller's user name as the apiserver authenticated it (SelfSubjectReview, which
        every authenticated user may create)."""
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        answer = await self.request(
            "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review
        )
        return str(((answer.get("status") or {}).get("userInfo") or {}).get("username") or "")
