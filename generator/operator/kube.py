"""Every Kubernetes API call the operator makes itself, in one small async client.

kopf watches; this module writes. Keeping each call here (create or replace of the CronJob, status
merge patches, server-side apply of the runner's ServiceAccount and RoleBinding, events, the few
reads) means the
handlers stay thin and the unit tests replace exactly this class. It speaks JSON over aiohttp (the
library kopf itself runs on) with credentials from the official client's loaders, so kubeconfig
contexts, exec plugins and in-cluster tokens work as they do for kubectl. Every request is
counted by verb and code in `kagent_scheduledrun_api_requests_total`, which is how the benchmark
proves that an idle operator writes nothing.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
import orjson
from prometheus_client import Counter

from generator.cronjob import drift
from runner import api
from runner.kube import KubeError, scheduledrun_path, scheduledruns_path, segment

FIELD_MANAGER: Final = "kagent-scheduledrun"
COMPONENT: Final = "kagent-scheduledrun"
APPLY: Final = "application/apply-patch+yaml"  # JSON is YAML
MERGE: Final = "application/merge-patch+json"
# Concurrent requests to the API server: enough to keep a burst of creations flowing (measured:
# more connections do not apply 1000 CronJobs faster on a loopback apiserver), few enough that the
# operator cannot starve kube-controller-manager of the apiserver's attention. Each TLS
# connection also holds ~256 KB of buffers.
MAX_CONNECTIONS: Final = 8
# Watches by name of foreign CronJobs (holders.py) at once, each holding a connection of its own
# for as long as it lasts: never one of the requests' MAX_CONNECTIONS, so a tenant's conflicts
# cannot starve the operator's writes. A watch past these waits for a connection; its conflict is
# still looked at again every minute meanwhile.
MAX_WATCHES: Final = 16
REQUEST_TIMEOUT: Final = 30.0
# Objects per page of a listing (the operator's start-up listing and kopf's, kopf_settings.py). A
# page is held whole, three times over while it is decoded (the bytes, the text, the objects), and
# a tenant can make each object as large as etcd admits (1.5 MiB): 10 such objects stay within
# ~50 MiB at the worst, and the objects the operator makes (CronJobs, Jobs: a few KB) still
# list hundreds to a second.
LIST_PAGE: Final = 10
# How long one watch of a named CronJob lasts before the API server ends it and it is made again
# (holders.py); the client waits a minute longer for the server's end than for its answer.
WATCH_SECONDS: Final = 600

logger = logging.getLogger(__name__)


class Conflict(KubeError):
    """409: the object changed since it was read (optimistic concurrency) or a field conflict."""


class RunnerAccessConflict(KubeError):
    """The runner's RoleBinding of a namespace exists bound to another role (its roleRef cannot
    change): runs there could not record anything until someone removes it."""


def _cronjobs_path(namespace: str) -> str:
    return f"/apis/batch/v1/namespaces/{segment(namespace)}/cronjobs"


def _cronjob_path(namespace: str, name: str) -> str:
    return f"{_cronjobs_path(namespace)}/{segment(name)}"


def _load_configuration() -> Any:
    """The official client's Configuration: in-cluster when running in a pod, else kubeconfig."""
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(client_configuration=configuration)
    return configuration


def _ssl_context(configuration: Any) -> ssl.SSLContext | bool:
    if not configuration.verify_ssl:
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    return context


class Kube:
    """The operator's API client: `await Kube.connect(counter)`, then `close()`."""

    def __init__(
        self,
        server: str,
        session: aiohttp.ClientSession,
        watching: aiohttp.ClientSession,
        configuration: Any,
        counter: Counter,
    ) -> None:
        self.server = server.rstrip("/")
        self.session = session  # requests
        self.watching = watching  # long watches, on connections of their own
        self.configuration = configuration
        self.counter = counter

    @classmethod
    async def connect(cls, counter: Counter) -> Kube:
        configuration = _load_configuration()
        tls = _ssl_context(configuration)
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls, limit=MAX_CONNECTIONS),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        )
        watching = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls, limit=MAX_WATCHES),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT),
        )
        return cls(configuration.host, session, watching, configuration, counter)

    async def close(self) -> None:
        await self.session.close()
        await self.watching.close()

    def _headers(self, content_type: str | None) -> dict[str, str]:
        hook = getattr(self.configuration, "refresh_api_key_hook", None)
        if hook is not None:
            hook(self.configuration)  # re-reads a rotated in-cluster token when it is due
        headers = {"Accept": "application/json"}
        auth = self.configuration.get_api_key_with_prefix("authorization") or (
            self.configuration.get_api_key_with_prefix("BearerToken")
        )
        if auth:
            headers["Authorization"] = auth
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """The decoded response, None on 404; KubeError (Conflict on 409) otherwise."""
        data = None if body is None else orjson.dumps(body)
        try:
            async with self.session.request(
                method,
                self.server + path,
                data=data,
                params=dict(params or {}),
                headers=self._headers(content_type if body is not None else None),
            ) as response:
                self.counter.labels(method, str(response.status)).inc()
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.counter.labels(method, "0").inc()
            raise KubeError(0, "Unreachable", f"{method} {path}: {exc!r}") from exc
        if response.status == 404:
            return None
        if response.status >= 400:
            error = Conflict if response.status == 409 else KubeError
            text = raw.decode("utf-8", errors="replace")
            raise error.of_answer(response.status, text, f"{method} {path}")
        try:
            decoded: dict[str, Any] = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise KubeError(response.status, "BadResponse", f"{method} {path}: {exc}") from exc
        return decoded

    async def apply(self, path: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        params = {"fieldManager": FIELD_MANAGER, "force": "true"}
        return await self.request("PATCH", path, body=body, content_type=APPLY, params=params)

    async def list_pages(
        self, group_version: str, plural: str, namespace: str | None, selector: str | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every object of a kind (in a namespace, or all), one page at a time: a caller keeps
        what it needs of a page before the next is read, so a listing never holds more than a
        page. Nothing when the kind does not exist (an Agent CRD that is not installed)."""
        prefix = "/api/" if group_version == "v1" else "/apis/"
        where = f"namespaces/{segment(namespace)}/" if namespace else ""
        path = f"{prefix}{group_version}/{where}{plural}"
        params = {"limit": str(LIST_PAGE)}
        if selector:
            params["labelSelector"] = selector
        while True:
            page = await self.request("GET", path, params=params)
            if page is None:
                return
            token = (page.get("metadata") or {}).get("continue")
            items: list[dict[str, Any]] = page.pop("items", None) or []
            del page
            yield items
            del items
            if not token:
                return
            params["continue"] = token

    # ScheduledRuns

    async def list_one_scheduledrun(self, namespace: str | None) -> dict[str, Any] | None:
        """A list of at most one ScheduledRun (of a namespace, or of all): the health probe's
        read (health_server.py), a word from the API server that costs it one item."""
        return await self.request("GET", scheduledruns_path(namespace), params={"limit": "1"})

    async def get_scheduledrun(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self.request("GET", scheduledrun_path(namespace, name))

    async def patch_status(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Merge-patch /status. A patch carrying metadata.resourceVersion fails with Conflict when
        the object changed since that version (how the sweep avoids clobbering a runner)."""
        path = scheduledrun_path(namespace, name) + "/status"
        return await self.request("PATCH", path, body=patch, content_type=MERGE)

    # CronJobs and Jobs

    async def get_cronjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self.request("GET", _cronjob_path(namespace, name))

    async def cronjob_deletions(
        self, namespace: str, name: str, seconds: int = WATCH_SECONDS
    ) -> AsyncIterator[None]:
        """One item each time the CronJob `name` is seen gone: at once when a listing by name
        finds none, then at each DELETED event of a watch by name from that listing, until the
        API server ends the watch (after `seconds`, or with an ERROR event such as 410 Gone);
        the caller lists and watches again. Nothing of the object is kept."""
        path = _cronjobs_path(namespace)
        by_name = {"fieldSelector": f"metadata.name={name}"}
        listed = await self.request("GET", path, params=by_name) or {}
        if not listed.get("items"):
            yield None
        params = {
            **by_name,
            "watch": "true",
            "resourceVersion": str((listed.get("metadata") or {}).get("resourceVersion") or ""),
            "timeoutSeconds": str(seconds),
        }
        del listed
        patience = aiohttp.ClientTimeout(
            total=None, sock_connect=REQUEST_TIMEOUT, sock_read=seconds + 60
        )
        try:
            async with self.watching.get(
                self.server + path, params=params, headers=self._headers(None), timeout=patience
            ) as response:
                self.counter.labels("WATCH", str(response.status)).inc()
                if response.status >= 400:
                    text = (await response.read()).decode("utf-8", errors="replace")
                    raise KubeError.of_answer(response.status, text, f"WATCH {path}")
                async for line in _lines(response.content):
                    kind = orjson.loads(line).get("type")
                    if kind == "ERROR":
                        return
                    if kind == "DELETED":
                        yield None
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            raise KubeError(0, "Unreachable", f"WATCH {path}: {exc!r}") from exc

    async def create_cronjob(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Create the CronJob; the CronJob as created, None when one of that name exists
        already (nothing written)."""
        path = _cronjobs_path(body["metadata"]["namespace"])
        params = {"fieldManager": FIELD_MANAGER}
        try:
            return await self.request(
                "POST", path, body=body, content_type="application/json", params=params
            )
        except Conflict:  # 409 AlreadyExists
            return None

    async def replace_cronjob(
        self, body: Mapping[str, Any], resource_version: str
    ) -> dict[str, Any] | None:
        """Replace the CronJob with exactly `body` (a PUT guarded by `resource_version`: Conflict
        when it changed since it was read). Unlike server-side apply, whatever others added
        (a container, env, volumes, labels) goes: the object holds only what is desired.
        Returns the CronJob as it now is."""
        meta = body["metadata"]
        replacement = {**body, "metadata": {**meta, "resourceVersion": resource_version}}
        path = _cronjob_path(meta["namespace"], meta["name"])
        params = {"fieldManager": FIELD_MANAGER}
        return await self.request(
            "PUT", path, body=replacement, content_type="application/json", params=params
        )

    async def suspend_cronjob(self, namespace: str, name: str) -> None:
        """Suspend an existing CronJob without applying a whole spec (its spec is invalid)."""
        patch = {"spec": {"suspend": True}}
        await self.request("PATCH", _cronjob_path(namespace, name), body=patch, content_type=MERGE)

    async def job_exists(self, namespace: str, name: str) -> bool:
        path = f"/apis/batch/v1/namespaces/{segment(namespace)}/jobs/{segment(name)}"
        return await self.request("GET", path) is not None

    # Runner RBAC

    async def ensure_runner_rbac(self, namespace: str, account: str, cluster_role: str) -> None:
        """The runner's ServiceAccount and its RoleBinding to the runner ClusterRole, both owned
        by that ClusterRole, so `helm uninstall` (which deletes it) garbage-collects them.
        RunnerAccessConflict when a RoleBinding of that name is bound to another role."""
        role = await self.request(
            "GET", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{segment(cluster_role)}"
        )
        owner_uid = None if role is None else role["metadata"]["uid"]
        service_account, binding = runner_rbac_objects(namespace, account, cluster_role, owner_uid)
        ns, name = segment(namespace), segment(account)
        await self._apply_unless_in_place(
            f"/api/v1/namespaces/{ns}/serviceaccounts/{name}", service_account
        )
        path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/{name}"
        try:
            await self._apply_unless_in_place(path, binding)
        except KubeError as exc:
            if exc.status != 422:  # the apiserver refuses to change a RoleBinding's roleRef
                raise
            raise RunnerAccessConflict(
                exc.status,
                exc.reason,
                f"RoleBinding {account} exists and is bound to another role than ClusterRole"
                f" {cluster_role} (its roleRef cannot change); runs cannot record anything"
                " until it is deleted",
            ) from exc

    async def _apply_unless_in_place(self, path: str, body: Mapping[str, Any]) -> None:
        """Apply `body` unless the live object already holds every field of it: a read, not a
        write, for each operator start that finds the runner's access as it left it (an apply
        that changes nothing is still a write request)."""
        try:
            live = await self.request("GET", path)
        except KubeError as exc:
            if exc.status != 403:  # a role without `get` (an older chart): apply, as before
                raise
            live = None
        if live is None or drift.differences(body, live):
            await self.apply(path, body)

    # Metrics access (generator/operator/metrics_server.py)

    async def may_get_metrics(self, token: str, path: str) -> bool:
        """Whether the holder of `token` is a user the API server knows (TokenReview) who may
        `get` the non-resource URL `path` (SubjectAccessReview)."""
        review = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        reviewed = await self.request(
            "POST",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            body=review,
            content_type="application/json",
        )
        status = (reviewed or {}).get("status") or {}
        if not status.get("authenticated"):
            return False
        user = status.get("user") or {}
        access = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user.get("username"),
                "groups": user.get("groups") or [],
                "uid": user.get("uid"),
                "extra": user.get("extra") or {},
                "nonResourceAttributes": {"path": path, "verb": "get"},
            },
        }
        decided = await self.request(
            "POST",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            body=access,
            content_type="application/json",
        )
        return bool(((decided or {}).get("status") or {}).get("allowed"))

    # Events

    async def post_event(
        self, obj: Mapping[str, Any], type_: str, reason: str, message: str
    ) -> None:
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace"))
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta.get('name')}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": api.API_VERSION,
                "kind": api.KIND,
                "name": meta.get("name"),
                "namespace": namespace,
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "type": type_,
            "reason": reason,
            "message": message,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": COMPONENT,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        await self.request(
            "POST",
            f"/api/v1/namespaces/{segment(namespace)}/events",
            body=event,
            content_type="application/json",
        )


def runner_rbac_objects(
    namespace: str, account: str, cluster_role: str, owner_uid: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The runner ServiceAccount and RoleBinding of one namespace. With the runner ClusterRole's
    uid they name it as owner (not controller: nothing reconciles them from it), so deleting the
    chart's ClusterRole removes every namespace's runner access with it."""
    labels = {
        "app.kubernetes.io/managed-by": COMPONENT,
        api.LABEL_COMPONENT: api.COMPONENT_RUNNER,
    }
    meta: dict[str, Any] = {"name": account, "namespace": namespace, "labels": labels}
    if owner_uid is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "name": cluster_role,
                "uid": owner_uid,
            }
        ]
    service_account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": meta,
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": cluster_role,
        },
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
    }
    return service_account, binding


async def _lines(stream: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """The non-empty lines of a watch stream, however long (an object can be as large as etcd
    admits: longer than aiohttp's own line reader allows)."""
    buffer = b""
    async for chunk in stream.iter_any():
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer
