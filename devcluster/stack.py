"""The whole product on the local control plane, as a platform engineer would install it.

Used by the end-to-end tests and by the demo (scripts/demo.py). `Stack` adds, on a running
control plane: the kubelet stand-in, an a2a-sdk agent server, the Helm chart (`helm install`),
and the operator process. The operator runs the command and arguments of the chart's own
Deployment, authenticated with a token of the chart's own ServiceAccount (TokenRequest), so the
chart's RBAC is what it works with; only the ports are moved to free loopback ports. (The
Deployment's pod itself stays Pending: the stand-in runs runner pods only.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from devcluster.accounts import service_account_kubeconfig
from devcluster.agents import AgentServer
from devcluster.cluster import ControlPlane, free_port
from devcluster.kubelet import KubeletStandIn
from runner import api

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "charts" / "kagent-scheduledrun"
RELEASE = "kagent-scheduledrun"
RELEASE_NAMESPACE = "kagent-system"
SR_PATH = "/apis/{group}/{version}/namespaces/{ns}/{plural}"


def sr_path(namespace: str, name: str = "") -> str:
    path = SR_PATH.format(group=api.GROUP, version=api.VERSION, ns=namespace, plural=api.PLURAL)
    return f"{path}/{name}" if name else path


def eventually(what: str, probe: Callable[[], Any], timeout: float = 90, every: float = 0.5) -> Any:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def local_operator_argv(
    deployment: dict[str, Any], metrics_port: int, health_port: int
) -> list[str]:
    """The chart Deployment's operator command, with the ports moved to free loopback ports and
    `scheduledrun` mapped to this installation's entry point."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    command = [*container["command"], *container.get("args", [])]
    assert command[0] == "scheduledrun", command
    moved = {"--metrics-port": metrics_port, "--health-port": health_port}
    argv = [str(Path(sys.executable).with_name("scheduledrun"))]
    for arg in command[1:]:
        flag = arg.split("=", 1)[0]
        argv.append(f"{flag}={moved[flag]}" if flag in moved else arg)
    return argv


class Stack:
    """Kubelet stand-in + agent server + chart + operator on a running control plane."""

    def __init__(self, plane: ControlPlane, agent_port: int = 0, log_dir: Path | None = None):
        self.plane = plane
        self.agent_port = agent_port
        self._own_log_dir = log_dir is None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="scheduledrun-stack-"))
        self.kubelet: KubeletStandIn | None = None
        self.agents: AgentServer | None = None
        self.operator: subprocess.Popen[bytes] | None = None
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.installed = False

    # ---- pieces ---------------------------------------------------------------------------
    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **self.plane.env,
            "HELM_CACHE_HOME": str(self.log_dir / "helm-cache"),
            "HELM_CONFIG_HOME": str(self.log_dir / "helm-config"),
            "HELM_DATA_HOME": str(self.log_dir / "helm-data"),
        }
        result = subprocess.run(
            [str(self.plane.bin_dir / "helm"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def install_chart(self) -> None:
        assert self.agents is not None
        self.helm(
            "install",
            RELEASE,
            str(CHART),
            "--namespace",
            RELEASE_NAMESPACE,
            "--create-namespace",
            "--set",
            f"a2a.baseUrl={self.agents.base_url}",
            "--wait=false",
        )
        self.installed = True

    def start_operator(self) -> None:
        with self.plane.client() as client:
            deployment = (
                client.get(f"/apis/apps/v1/namespaces/{RELEASE_NAMESPACE}/deployments/{RELEASE}")
                .raise_for_status()
                .json()
            )
        account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
        kubeconfig = service_account_kubeconfig(
            self.plane, RELEASE_NAMESPACE, account, self.log_dir
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env["KUBECONFIG"] = str(kubeconfig)
        log = (self.log_dir / "operator.log").open("ab")
        self.operator = subprocess.Popen(
            local_operator_argv(deployment, self.metrics_port, self.health_port),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        eventually("the operator's /healthz", self._healthy, timeout=60)

    def _healthy(self) -> bool:
        assert self.operator is not None
        if self.operator.poll() is not None:
            raise AssertionError(f"operator exited:\n{self.operator_log()}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.health_port}/healthz", timeout=2).is_success
        except httpx.HTTPError:
            return False

    def operator_log(self, lines: int = 80) -> str:
        path = self.log_dir / "operator.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def stop_operator(self) -> None:
        if self.operator is not None and self.operator.poll() is None:
            os.killpg(self.operator.pid, signal.SIGTERM)
            try:
                self.operator.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.operator.pid, signal.SIGKILL)
                self.operator.wait(5)
        self.operator = None

    # ---- whole ----------------------------------------------------------------------------
    def start(self) -> Stack:
        self.kubelet = KubeletStandIn(
            self.plane.server,
            self.plane.ssl_context(),
            self.plane.ca_file,
            work_dir=self.log_dir / "kubelet",
        )
        self.kubelet.start()
        self.agents = AgentServer(self.agent_port).start()
        self.install_chart()
        self.start_operator()
        return self

    def stop(self) -> None:
        self.stop_operator()
        if self.installed:
            with contextlib.suppress(Exception):
                self.helm("uninstall", RELEASE, "--namespace", RELEASE_NAMESPACE, check=False)
            self.installed = False
        if self.agents is not None:
            self.agents.stop()
            self.agents = None
        if self.kubelet is not None:
            self.kubelet.stop()
            self.kubelet = None
        if self._own_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_stack(plane: ControlPlane, **kwargs: Any) -> Iterator[Stack]:
    with Stack(plane, **kwargs) as stack:
        yield stack
