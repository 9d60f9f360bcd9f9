"""A real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager
as local processes, built from their Go modules by build.sh.

Everything this project does happens through the API server, the CronJob controller and the Job
controller, so the tests run against the real ones rather than a mock of our assumptions. Pods run
on a real node (devcluster/node.py: containerd, kubelet, kube-scheduler) where a test needs them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from devcluster import pki
from devcluster.children import popen_options

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = Path(__file__).with_name("build.sh")
CHART_CRDS = REPO_ROOT / "charts" / "kagent-scheduledrun" / "crds"
TEST_CRDS = Path(__file__).with_name("crds")

# Controllers the project relies on: CronJob -> Job -> Pod, owner-reference garbage collection,
# ServiceAccounts (and their tokens' CA config map) per namespace, namespace deletion, finished-Job
# clean-up, podgc so pods of a stopped node do not hold a namespace forever, and node lifecycle
# (it lifts the not-ready taint a kubelet registers with, once the node is Ready), the
# Deployment and ReplicaSet controllers for the chart's operator Deployment, and ClusterRole
# aggregation for the chart's roles that extend the built-in view, edit and admin roles.
CONTROLLERS = (
    "cronjob-controller",
    "job-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "namespace-controller",
    "ttl-after-finished-controller",
    "pod-garbage-collector-controller",
    "node-lifecycle-controller",
    "deployment-controller",
    "replicaset-controller",
    "clusterrole-aggregation-controller",
)
# Only the `kubernetes` Service's address (pki.KUBERNETES_SERVICE_IP) is reachable, from pods of
# the real node, through its DNAT rule to the API server on loopback (devcluster/node.py).
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# The label values a namespace needs for PodSecurity admission to enforce "restricted".
RESTRICTED_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
# A cold start on a busy 2-core machine takes ~20 s; these bound a start that will never succeed.
START_TIMEOUT = 120.0
STOP_GRACE = 10.0
LOG_TAIL_LINES = 40


class ControlPlaneError(RuntimeError):
    """A component failed to start or to become ready; the message carries its own log tail."""


def build_binaries(env: dict[str, str] | None = None) -> Path:
    """Run build.sh (a no-op when this version is cached); return the bin folder."""
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise ControlPlaneError(f"build.sh failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a component's log, for an error message."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def kubeconfig_document(server: str, ca: Path, cert: Path, key: Path, user: str) -> dict[str, Any]:
    """A kubeconfig with one cluster, one client-certificate user and one current context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "scheduledrun",
                "cluster": {"server": server, "certificate-authority": str(ca)},
            }
        ],
        "users": [
            {"name": user, "user": {"client-certificate": str(cert), "client-key": str(key)}}
        ],
        "contexts": [
            {"name": "scheduledrun", "context": {"cluster": "scheduledrun", "user": user}}
        ],
        "current-context": "scheduledrun",
    }


class Component:
    """One control-plane process with its log file."""

    def __init__(
        self, name: str, argv: Sequence[str], log: Path, env: dict[str, str], append: bool = False
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = env
        with log.open("ab" if append else "wb") as out:
            self.process = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                **popen_options(),
            )

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise ControlPlaneError(
                f"{self.name} exited with code {code}; its log ({self.log}) ends:\n"
                f"{log_tail(self.log)}"
            )

    def kill(self) -> None:
        """End it at once, as a crash would (no graceful shutdown)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager on free loopback ports.

    `start()` returns once the API server is ready, the controllers run and the CRDs are
    established; `stop()` ends every process and removes the state folder (unless it was given).
    """

    def __init__(
        self,
        bin_dir: Path,
        state_dir: Path | None = None,
        controller_manager_flags: Sequence[str] = (),
        etcd_flags: Sequence[str] = (),
    ) -> None:
        self.bin_dir = bin_dir
        # Extra etcd flags (`--quota-backend-bytes=...`): the operator memory benchmark stores
        # a thousand objects of the largest size the API server admits.
        self.etcd_flags = tuple(etcd_flags)
        # Extra kube-controller-manager flags (`--kube-api-qps=...`): the capacity benchmark
        # tunes the CronJob controller with them, a missed-run test starves it.
        self.controller_manager_flags = tuple(controller_manager_flags)
        self._own_state_dir = state_dir is None
        self.state_dir = (
            Path(tempfile.mkdtemp(prefix="scheduledrun-cp-")) if state_dir is None else state_dir
        )
        self.components: list[Component] = []
        self.port = 0
        self.etcd_port = 0
        self.started_seconds = 0.0

    # ---- what tests use -------------------------------------------------------------------
    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "admin.kubeconfig"

    @property
    def ca_file(self) -> Path:
        return self.state_dir / "pki" / "ca.crt"

    @property
    def admin_cert(self) -> tuple[Path, Path]:
        folder = self.state_dir / "pki"
        return folder / "admin.crt", folder / "admin.key"

    @property
    def env(self) -> dict[str, str]:
        """os.environ with KUBECONFIG pointing at the admin kubeconfig and the binaries on PATH."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def kubectl_path(self) -> str:
        built = self.bin_dir / "kubectl"
        if built.exists():
            return str(built)
        found = shutil.which("kubectl")
        if found is None:
            raise ControlPlaneError("no kubectl in the bin folder or on PATH")
        return found

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this control plane as cluster admin."""
        result = subprocess.run(
            [self.kubectl_path(), "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(
                result.returncode, result.args, result.stdout, result.stderr
            )
        return result

    def ssl_context(self) -> ssl.SSLContext:
        """TLS settings of a cluster-admin client: trust the test CA, present the admin cert."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        cert, key = self.admin_cert
        context.load_cert_chain(str(cert), str(key))
        return context

    def client(self, timeout: float = 30) -> httpx.Client:
        """An httpx client for the API server, authenticated as cluster admin."""
        return httpx.Client(base_url=self.server, verify=self.ssl_context(), timeout=timeout)

    # ---- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        began = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.monotonic() - began

    def stop_apiserver(self) -> None:
        """Kill the API server alone (etcd and the controllers go on), as a crash would: an
        outage from now, for a test of what its clients do meanwhile. `start_apiserver()` ends
        it."""
        self._component("kube-apiserver").kill()

    def start_apiserver(self) -> None:
        """Start the API server again after `stop_apiserver()`, on the same port with the same
        certificates and etcd, so every object is still there; returns once it is ready. Its log
        goes on in the same file."""
        old = self._component("kube-apiserver")
        if old.process.poll() is None:
            raise ControlPlaneError("kube-apiserver is running; stop_apiserver() first")
        new = Component(old.name, old.argv, old.log, old.env, append=True)
        self.components[self.components.index(old)] = new
        self._wait(new, time.monotonic() + START_TIMEOUT, self._apiserver_ready)

    def _component(self, name: str) -> Component:
        for component in self.components:
            if component.name == name:
                return component
        raise ControlPlaneError(f"no {name} in this control plane")

    def stop(self) -> None:
        for component in reversed(self.components):
            component.stop()
        self.components.clear()
        if self._own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def _start(self) -> None:
        for binary in ("etcd", "kube-apiserver", "kube-controller-manager"):
            if not (self.bin_dir / binary).exists():
                raise ControlPlaneError(
                    f"{binary} is missing from {self.bin_dir}; run {BUILD_SCRIPT}"
                )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        certs = pki.generate(self.state_dir / "pki")
        self.port = free_port()
        self.write_kubeconfig(self.kubeconfig, certs.admin, "admin")
        self.write_kubeconfig(
            self.state_dir / "controller-manager.kubeconfig",
            certs.controller_manager,
            "system:kube-controller-manager",
        )
        deadline = time.monotonic() + START_TIMEOUT
        etcd = self._start_etcd()
        self._wait(etcd, deadline, self._etcd_healthy)
        apiserver = self._start_apiserver(certs)
        self._wait(apiserver, deadline, self._apiserver_ready)
        manager = self._start_controller_manager(certs)
        self._wait(manager, deadline, self._default_service_account_exists)
        self.apply_crds()

    def write_kubeconfig(self, path: Path, pair: pki.KeyPair, user: str) -> None:
        document = kubeconfig_document(self.server, self.ca_file, pair.cert, pair.key, user)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        path.chmod(0o600)

    def _launch(self, name: str, argv: list[str]) -> Component:
        component = Component(name, argv, self.state_dir / f"{name}.log", dict(os.environ))
        self.components.append(component)
        return component

    def _wait(self, component: Component, deadline: float, ready: Callable[[], bool]) -> None:
        while True:
            component.check_alive()
            if ready():
                return
            if time.monotonic() > deadline:
                raise ControlPlaneError(
                    f"{component.name} not ready after {START_TIMEOUT:.0f}s; its log ends:\n"
                    f"{log_tail(component.log)}"
                )
            time.sleep(0.2)

    def _start_etcd(self) -> Component:
        self.etcd_port = free_port()
        peer_port = free_port()
        client_url = f"http://127.0.0.1:{self.etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        return self._launch(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=default",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                # Test data is thrown away: no fsync, so a busy disk slows no write.
                "--unsafe-no-fsync=true",
                "--log-level=warn",
                *self.etcd_flags,
            ],
        )

    def _etcd_healthy(self) -> bool:
        try:
            response = httpx.get(f"http://127.0.0.1:{self.etcd_port}/health", timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and '"health":"true"' in response.text

    def _start_apiserver(self, certs: pki.Pki) -> Component:
        return self._launch(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--cert-dir={self.state_dir / 'apiserver-certs'}",
                f"--tls-cert-file={certs.serving.cert}",
                f"--tls-private-key-file={certs.serving.key}",
                f"--client-ca-file={certs.ca.cert}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction,PodSecurity",
                # `kubectl logs/exec` reach the node's kubelet at its InternalIP (the node's
                # bridge address), authenticated with this certificate.
                "--kubelet-preferred-address-types=InternalIP",
                f"--kubelet-client-certificate={certs.apiserver_kubelet_client.cert}",
                f"--kubelet-client-key={certs.apiserver_kubelet_client.key}",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--service-account-key-file={certs.service_account_pub}",
                f"--service-account-signing-key-file={certs.service_account_key}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--profiling=false",
                "--v=1",
            ],
        )

    def _apiserver_ready(self) -> bool:
        try:
            with self.client(timeout=3) as client:
                response = client.get("/readyz")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _start_controller_manager(self, certs: pki.Pki) -> Component:
        return self._launch(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={self.state_dir / 'controller-manager.kubeconfig'}",
                f"--controllers={','.join(CONTROLLERS)}",
                # Each controller acts as its own ServiceAccount, so RBAC applies as in a cluster.
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={certs.service_account_key}",
                f"--root-ca-file={certs.ca.cert}",
                "--leader-elect=false",
                "--secure-port=0",
                "--v=1",
                *self.controller_manager_flags,
            ],
        )

    def _default_service_account_exists(self) -> bool:
        """The serviceaccount controller has run, so the controller manager is up and acting."""
        try:
            with self.client(timeout=3) as client:
                response = client.get("/api/v1/namespaces/default/serviceaccounts/default")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def apply_crds(self) -> None:
        """Apply the chart's ScheduledRun CRD and the test Agent/SandboxAgent CRDs; await them."""
        files = sorted(CHART_CRDS.glob("*.yaml")) + sorted(TEST_CRDS.glob("*.yaml"))
        if not files:
            return
        args: list[str] = []
        for path in files:
            args += ["-f", str(path)]
        # Server-side: a large CRD would overflow client-side apply's last-applied annotation.
        self.kubectl("apply", "--server-side", "--force-conflicts", *args)
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", *args)

    # ---- helpers for tests ----------------------------------------------------------------
    def wait_for(
        self, what: str, predicate: Callable[[], bool], timeout: float = 60, interval: float = 0.25
    ) -> None:
        """Poll predicate until true; raise AssertionError naming what did not happen."""
        eventually(what, predicate, timeout, interval)

    def logs(self) -> Iterator[tuple[str, Path]]:
        for component in self.components:
            yield component.name, component.log


def eventually(
    what: str, probe: Callable[[], Any], timeout: float = 90, every: float = 0.25
) -> Any:
    """Poll `probe` until it returns something truthy and return that; after `timeout` seconds,
    fail naming `what`. The one wait on state of the tests, the benchmarks and the demo."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def binaries() -> Path:
    """The folder of built binaries: $SCHEDULEDRUN_BIN_DIR when set, else build.sh's cache."""
    given = os.environ.get("SCHEDULEDRUN_BIN_DIR")
    return Path(given) if given else build_binaries()
