"""A stand-in for the kubelet (and the scheduler) for runner pods only: there is no container
runtime on these machines, so this process binds runner pods to a Node it owns, runs each pod's
own command as a local process with the pod's env and a real TokenRequest token for the pod's
ServiceAccount, and reports pod status the way a kubelet does, so the real Job controller and its
podFailurePolicy act on genuine exit codes.

It runs nothing but pods labelled app.kubernetes.io/component=scheduledrun-runner, and only the
programs in its command map (`scheduledrun` -> this venv's `scheduledrun` script by default).

Standalone, for the demo: `python -m devcluster.kubelet --kubeconfig PATH`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
import yaml

from devcluster import podspec
from runner import api

RUNNER_SELECTOR = f"{api.LABEL_COMPONENT}={api.COMPONENT_RUNNER}"
# A watch is re-opened this often even when quiet, so a dead connection is noticed.
WATCH_SECONDS = 60
# How long a worker keeps asking for a pod's token before the pod fails.
TOKEN_RETRY_SECONDS = 15.0
TOKEN_EXPIRATION_SECONDS = 3600
DEFAULT_GRACE_SECONDS = 30


def default_commands() -> dict[str, str]:
    """`scheduledrun` in the runner image maps to the `scheduledrun` script of this environment."""
    return {"scheduledrun": str(Path(sys.executable).with_name("scheduledrun"))}


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RunRecord:
    """One container the stand-in ran (or refused to run), for tests to assert on."""

    namespace: str
    pod: str
    argv: tuple[str, ...]
    exit_code: int
    reason: str
    log: Path


@dataclass
class _PodWorker:
    pod: dict[str, Any]
    thread: threading.Thread | None = None
    process: subprocess.Popen[bytes] | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    deleted: bool = False  # the pod object is gone (force-deleted): report nothing more
    done: threading.Event = field(default_factory=threading.Event)


class KubeletStandIn:
    """Runs runner pods as local processes. `start()` registers the Node and begins watching."""

    def __init__(
        self,
        server: str,
        ssl_context: ssl.SSLContext,
        ca_file: Path,
        *,
        commands: Mapping[str, str] | None = None,
        node_name: str | None = None,
        work_dir: Path | None = None,
    ) -> None:
        self.server = server
        self._ssl = ssl_context
        self.ca_file = ca_file
        self.commands = dict(default_commands() if commands is None else commands)
        self.node_name = node_name or f"scheduledrun-standin-{uuid.uuid4().hex[:6]}"
        self._own_work_dir = work_dir is None
        self.work_dir = (
            Path(tempfile.mkdtemp(prefix="scheduledrun-kubelet-")) if work_dir is None else work_dir
        )
        self._workers: dict[str, _PodWorker] = {}
        self._lock = threading.Lock()
        self._runs: list[RunRecord] = []
        self._stopping = threading.Event()
        self._watch_thread: threading.Thread | None = None
        self._watch_response: httpx.Response | None = None
        self.errors: list[str] = []  # unexpected failures inside the stand-in itself

    # ---- what tests use -------------------------------------------------------------------
    @property
    def runs(self) -> list[RunRecord]:
        with self._lock:
            return list(self._runs)

    def logs(self, namespace: str, pod: str) -> str:
        path = self.work_dir / namespace / pod / "container.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_runs(self, namespace: str, count: int, timeout: float = 60) -> list[RunRecord]:
        """Block until at least count pods of namespace have finished here; return them."""
        deadline = time.monotonic() + timeout
        while True:
            done = [run for run in self.runs if run.namespace == namespace]
            if len(done) >= count:
                return done
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"kubelet stand-in finished {len(done)} of {count} pods in {namespace} "
                    f"within {timeout:.0f}s; errors: {self.errors}"
                )
            time.sleep(0.2)

    # ---- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> KubeletStandIn:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _client(self, timeout: float | None = 30) -> httpx.Client:
        return httpx.Client(base_url=self.server, verify=self._ssl, timeout=timeout)

    def start(self) -> None:
        self._register_node()
        self._watch_thread = threading.Thread(
            target=self._watch_loop, name="kubelet-watch", daemon=True
        )
        self._watch_thread.start()

    def stop(self) -> None:
        """Kill every running container, forget the Node and remove the work folder."""
        self._stopping.set()
        self._interrupt_watch()
        if self._watch_thread is not None:
            self._watch_thread.join(10)
            if self._watch_thread.is_alive():
                self.errors.append("the watch thread did not stop within 10s")
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.grace_seconds = 0
            worker.stop_requested.set()
        for worker in workers:
            if worker.thread is not None:
                worker.thread.join(15)
        with contextlib.suppress(httpx.HTTPError), self._client() as client:
            client.delete(f"/api/v1/nodes/{self.node_name}")
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def _interrupt_watch(self) -> None:
        """Wake the watch thread's blocked read by shutting its socket down.

        Never close() it from here: the reading thread's TLS object keeps the descriptor number,
        and a new connection reusing that number would have its bytes stolen and corrupted.
        """
        response = self._watch_response
        if response is None:
            return
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # ---- the node -------------------------------------------------------------------------
    def _register_node(self) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": {"kubernetes.io/hostname": self.node_name, "kubernetes.io/os": "linux"},
            },
        }
        capacity = {"cpu": "2", "memory": "8Gi", "pods": "110"}
        with self._client() as client:
            response = client.post("/api/v1/nodes", json=node)
            if response.status_code != 409:
                response.raise_for_status()
            now = now_rfc3339()
            status = {
                "status": {
                    "capacity": capacity,
                    "allocatable": capacity,
                    "addresses": [{"type": "Hostname", "address": self.node_name}],
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "message": "kubelet stand-in is running runner pods",
                            "lastHeartbeatTime": now,
                            "lastTransitionTime": now,
                        }
                    ],
                    "nodeInfo": {
                        "architecture": "amd64",
                        "operatingSystem": "linux",
                        "kubeletVersion": "standin",
                        "kubeProxyVersion": "",
                        "containerRuntimeVersion": "local-process://",
                        "bootID": "",
                        "kernelVersion": "",
                        "machineID": "",
                        "osImage": "",
                        "systemUUID": "",
                    },
                }
            }
            client.patch(
                f"/api/v1/nodes/{self.node_name}/status",
                content=json.dumps(status),
                headers={"Content-Type": "application/merge-patch+json"},
            ).raise_for_status()

    # ---- watching -------------------------------------------------------------------------
    def _watch_loop(self) -> None:
        resource_version = ""
        while not self._stopping.is_set():
            try:
                with self._client(timeout=None) as client:
                    if not resource_version:
                        resource_version = self._list(client)
                    resource_version = self._watch(client, resource_version)
            except httpx.HTTPError as exc:
                if self._stopping.is_set():
                    return
                self.errors.append(f"watch: {exc!r}")
                time.sleep(0.5)
            except _Expired:
                resource_version = ""

    def _list(self, client: httpx.Client) -> str:
        response = client.get("/api/v1/pods", params={"labelSelector": RUNNER_SELECTOR})
        response.raise_for_status()
        body = response.json()
        for pod in body.get("items", []):
            self._on_pod("ADDED", pod)
        return str(body["metadata"]["resourceVersion"])

    def _watch(self, client: httpx.Client, resource_version: str) -> str:
        params = {
            "labelSelector": RUNNER_SELECTOR,
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(WATCH_SECONDS),
        }
        with client.stream("GET", "/api/v1/pods", params=params) as response:
            self._watch_response = response
            if response.status_code == 410:
                raise _Expired
            response.raise_for_status()
            for line in response.iter_lines():
                if self._stopping.is_set():
                    break
                if not line:
                    continue
                event = json.loads(line)
                kind, obj = event["type"], event["object"]
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise _Expired
                    self.errors.append(f"watch error: {obj.get('message')}")
                    continue
                resource_version = obj["metadata"]["resourceVersion"]
                if kind != "BOOKMARK":
                    self._on_pod(kind, obj)
        return resource_version

    def _on_pod(self, kind: str, pod: dict[str, Any]) -> None:
        metadata, spec = pod["metadata"], pod.get("spec", {})
        uid = metadata["uid"]
        node = spec.get("nodeName", "")
        if node and node != self.node_name:
            return
        with self._lock:
            worker = self._workers.get(uid)
            if kind == "DELETED":
                if worker is not None:
                    worker.deleted = True
                    worker.grace_seconds = 0
                    worker.stop_requested.set()
                return
            if metadata.get("deletionTimestamp"):
                if worker is None or worker.done.is_set():
                    if node:
                        threading.Thread(
                            target=self._force_delete, args=(pod,), daemon=True
                        ).start()
                    return
                worker.grace_seconds = float(metadata.get("deletionGracePeriodSeconds") or 0)
                worker.stop_requested.set()
                return
            if worker is not None or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                return
            worker = _PodWorker(pod=pod)
            worker.thread = threading.Thread(
                target=self._run_pod, args=(worker,), name=f"pod-{metadata['name']}", daemon=True
            )
            self._workers[uid] = worker
        worker.thread.start()

    # ---- one pod --------------------------------------------------------------------------
    def _run_pod(self, worker: _PodWorker) -> None:
        pod = worker.pod
        try:
            with self._client() as client:
                if not pod["spec"].get("nodeName") and not self._bind(client, pod):
                    return
                self._run_container(client, worker)
        except Exception as exc:  # the stand-in must report, not die silently
            self.errors.append(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}: {exc!r}")
        finally:
            worker.done.set()

    def _bind(self, client: httpx.Client, pod: dict[str, Any]) -> bool:
        metadata = pod["metadata"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": metadata["name"], "namespace": metadata["namespace"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name},
        }
        response = client.post(
            f"/api/v1/namespaces/{metadata['namespace']}/pods/{metadata['name']}/binding",
            json=binding,
        )
        if response.status_code in (404, 409):  # gone, or bound meanwhile by someone else
            return False
        response.raise_for_status()
        pod["spec"]["nodeName"] = self.node_name
        return True

    def _run_container(self, client: httpx.Client, worker: _PodWorker) -> None:
        pod = worker.pod
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        container = pod["spec"]["containers"][0]
        folder = self.work_dir / namespace / name
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "container.log"
        started = now_rfc3339()
        try:
            launch = podspec.plan_launch(pod, container, self.commands)
            env = self._process_env(client, pod, folder) | launch.env
        except (podspec.PodSpecError, _NoToken) as exc:
            log.write_text(f"kubelet stand-in: {exc}\n")
            self._finish(client, worker, [], 128, "StartError", str(exc), started, "", log)
            return
        if worker.stop_requested.is_set():
            self._finish(
                client, worker, launch.argv, 137, "Error", "deleted before start", started, "", log
            )
            return
        with log.open("wb") as out:
            process = subprocess.Popen(
                launch.argv,
                env=env,
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker.process = process
        container_id = f"local-process://{process.pid}"
        self._write_status(
            client, pod, podspec.running_status(pod, container["name"], started, container_id)
        )
        deadline = pod["spec"].get("activeDeadlineSeconds")
        limit = time.monotonic() + float(deadline) if deadline else None
        pod_reason = ""
        while process.poll() is None:
            if worker.stop_requested.wait(0.1):
                self._kill(process, worker.grace_seconds)
            elif limit is not None and time.monotonic() > limit:
                pod_reason = "DeadlineExceeded"
                self._kill(process, 0)
        code = process.returncode
        exit_code = (
            128 - code if code < 0 else code
        )  # killed by signal N -> 128+N, as a runtime reports
        reason = podspec.exit_reason(exit_code)
        message = (
            "Pod was active on the node longer than the specified deadline" if pod_reason else ""
        )
        self._finish(
            client,
            worker,
            launch.argv,
            exit_code,
            reason,
            message,
            started,
            container_id,
            log,
            pod_reason,
        )

    def _kill(self, process: subprocess.Popen[bytes], grace: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
        try:
            process.wait(grace if grace > 0 else 5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def _finish(
        self,
        client: httpx.Client,
        worker: _PodWorker,
        argv: list[str],
        exit_code: int,
        reason: str,
        message: str,
        started: str,
        container_id: str,
        log: Path,
        pod_reason: str = "",
    ) -> None:
        pod = worker.pod
        container = pod["spec"]["containers"][0]["name"]
        if not worker.deleted:
            status = podspec.terminated_status(
                pod,
                container,
                started=started,
                finished=now_rfc3339(),
                exit_code=exit_code,
                reason=reason,
                message=message,
                container_id=container_id,
                pod_reason=pod_reason,
            )
            self._write_status(client, pod, status)
        record = RunRecord(
            namespace=pod["metadata"]["namespace"],
            pod=pod["metadata"]["name"],
            argv=tuple(argv),
            exit_code=exit_code,
            reason=reason,
            log=log,
        )
        with self._lock:
            self._runs.append(record)
        if worker.stop_requested.is_set() and not worker.deleted:
            self._force_delete(pod)

    def _force_delete(self, pod: Mapping[str, Any]) -> None:
        """What a kubelet does once a deleted pod's containers are gone: delete it for good."""
        metadata = pod["metadata"]
        body = {"gracePeriodSeconds": 0, "preconditions": {"uid": metadata["uid"]}}
        with contextlib.suppress(httpx.HTTPError), self._client() as client:
            client.request(
                "DELETE",
                f"/api/v1/namespaces/{metadata['namespace']}/pods/{metadata['name']}",
                json=body,
            )

    def _write_status(
        self, client: httpx.Client, pod: Mapping[str, Any], status: Mapping[str, Any]
    ) -> None:
        """Replace the pod's status (read-modify-write, retried on conflicts like a kubelet)."""
        path = f"/api/v1/namespaces/{pod['metadata']['namespace']}/pods/{pod['metadata']['name']}"
        for _ in range(20):
            current = client.get(path)
            if current.status_code == 404:
                return
            current.raise_for_status()
            body = current.json()
            if body["metadata"]["uid"] != pod["metadata"]["uid"]:
                return
            body["status"] = {**body.get("status", {}), **status}
            response = client.put(f"{path}/status", json=body)
            if response.status_code in (404, 409):
                if response.status_code == 404:
                    return
                continue
            response.raise_for_status()
            return
        raise RuntimeError(f"could not write the status of {path}: conflicts")

    # ---- credentials ----------------------------------------------------------------------
    def _process_env(
        self, client: httpx.Client, pod: Mapping[str, Any], folder: Path
    ) -> dict[str, str]:
        """The env a container gets besides its own: the in-cluster API address and credentials."""
        host, _, port = self.server.removeprefix("https://").rpartition(":")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),
            "HOSTNAME": str(pod["metadata"]["name"]),
            "KUBERNETES_SERVICE_HOST": host,
            "KUBERNETES_SERVICE_PORT": port,
        }
        if pod["spec"].get("automountServiceAccountToken") is False:
            return env
        secrets = folder / "serviceaccount"
        secrets.mkdir(exist_ok=True)
        (secrets / "token").write_text(self._token(client, pod))
        (secrets / "ca.crt").write_bytes(self.ca_file.read_bytes())
        (secrets / "namespace").write_text(str(pod["metadata"]["namespace"]))
        env[api.ENV_SERVICEACCOUNT_DIR] = str(secrets)
        return env

    def _token(self, client: httpx.Client, pod: Mapping[str, Any]) -> str:
        """A TokenRequest token for the pod's ServiceAccount, bound to the pod as kubelets do."""
        metadata = pod["metadata"]
        account = pod["spec"].get("serviceAccountName") or "default"
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": metadata["name"],
                    "uid": metadata["uid"],
                },
            },
        }
        path = f"/api/v1/namespaces/{metadata['namespace']}/serviceaccounts/{account}/token"
        deadline = time.monotonic() + TOKEN_RETRY_SECONDS
        while True:
            response = client.post(path, json=request)
            if response.status_code == 201 or response.status_code == 200:
                return str(response.json()["status"]["token"])
            if time.monotonic() > deadline:
                raise _NoToken(
                    f"no token for ServiceAccount {metadata['namespace']}/{account}: "
                    f"{response.status_code} {response.text[:300]}"
                )
            time.sleep(0.5)


class _Expired(Exception):
    """The watch's resourceVersion is too old: list again."""


class _NoToken(Exception):
    """TokenRequest kept failing for the pod's ServiceAccount."""


def _from_kubeconfig(path: Path) -> tuple[str, ssl.SSLContext, Path]:
    """Server, TLS context and CA file of a kubeconfig whose user has client-certificate files."""
    config = yaml.safe_load(path.read_text())
    context_name = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    ca_file = Path(cluster["certificate-authority"])
    tls = ssl.create_default_context(cafile=str(ca_file))
    tls.load_cert_chain(user["client-certificate"], user["client-key"])
    return str(cluster["server"]), tls, ca_file


@click.command()
@click.option(
    "--kubeconfig",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Admin kubeconfig written by `python -m devcluster` (client-certificate files).",
)
def main(kubeconfig: Path) -> None:
    """Run the kubelet stand-in against a control plane until Ctrl-C."""
    server, tls, ca_file = _from_kubeconfig(kubeconfig)
    standin = KubeletStandIn(server, tls, ca_file)
    standin.start()
    click.echo(f"kubelet stand-in running as node {standin.node_name}; Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
