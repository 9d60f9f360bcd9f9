"""The whole product on the local control plane, as a platform engineer would install it.

Used by the end-to-end tests and by the demo (scripts/demo.py). `Stack` adds, on a running
control plane with a real node: an a2a-sdk agent server (on loopback, forwarded to the pods
by the node), and the Helm chart installed from the images built by scripts/images.sh
(`helm install` setting only the images' repository, tag and pull policy, and the A2A address
of the test agent). The operator is the chart's Deployment: a real pod, Ready through its
probes, working with its in-cluster ServiceAccount token; runner pods come from the real
CronJob and Job controllers.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from devcluster.accounts import namespace_user
from devcluster.agents import AgentServer
from devcluster.cluster import RESTRICTED_LABELS, ControlPlane, eventually
from devcluster.images import Images
from devcluster.node import Node
from runner.kube import scheduledrun_path, scheduledruns_path

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "charts" / "kagent-scheduledrun"
RELEASE = "kagent-scheduledrun"
RELEASE_NAMESPACE = "kagent-system"


def sr_path(namespace: str, name: str = "") -> str:
    """The ScheduledRuns of a namespace, or one of them, as runner/kube.py builds the paths."""
    return scheduledrun_path(namespace, name) if name else scheduledruns_path(namespace)


class Stack:
    """Agent server + chart (operator pod) on a running control plane with a real node."""

    def __init__(
        self,
        plane: ControlPlane,
        node: Node,
        images: Images,
        agent_port: int = 0,
        log_dir: Path | None = None,
    ) -> None:
        self.plane = plane
        self.node = node
        self.images = images
        self.agent_port = agent_port
        self._metrics_token: str | None = None
        self._own_log_dir = log_dir is None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="scheduledrun-stack-"))
        self.agents: AgentServer | None = None
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

    def chart_values(self) -> list[str]:
        """The `--set` flags: the images built here (imported into the node, never pulled) and
        where the test agent answers."""
        assert self.agents is not None
        operator_repo, operator_tag = self.images.operator.rsplit(":", 1)
        runner_repo, runner_tag = self.images.runner.rsplit(":", 1)
        return [
            f"image.repository={operator_repo}",
            f"image.tag={operator_tag}",
            "image.pullPolicy=Never",
            f"runner.image.repository={runner_repo}",
            f"runner.image.tag={runner_tag}",
            "runner.image.pullPolicy=Never",
            f"a2a.baseUrl={self.agents.base_url}",
        ]

    def install_chart(self) -> None:
        """`helm install` into a namespace enforcing Pod Security "restricted"."""
        namespace = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": RELEASE_NAMESPACE, "labels": RESTRICTED_LABELS},
        }
        self.plane.kubectl("apply", "-f", "-", input=json.dumps(namespace))
        flags: list[str] = []
        for value in self.chart_values():
            flags += ["--set", value]
        self.helm(
            "install",
            RELEASE,
            str(CHART),
            "--namespace",
            RELEASE_NAMESPACE,
            *flags,
            "--wait=false",
        )
        self.installed = True

    def operator_pod(self) -> dict[str, Any] | None:
        """The operator's running (not terminating) pod, if any."""
        with self.plane.client() as client:
            pods = (
                client.get(
                    f"/api/v1/namespaces/{RELEASE_NAMESPACE}/pods",
                    params={"labelSelector": "app.kubernetes.io/component=operator"},
                )
                .raise_for_status()
                .json()["items"]
            )
        live = [pod for pod in pods if not pod["metadata"].get("deletionTimestamp")]
        return live[0] if live else None

    def operator_ready(self) -> dict[str, Any] | None:
        pod = self.operator_pod()
        if pod is None:
            return None
        conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions") or []}
        return pod if conditions.get("Ready") == "True" else None

    def wait_operator_ready(self, timeout: float = 180) -> dict[str, Any]:
        try:
            pod: dict[str, Any] = eventually(
                "the operator pod Ready", self.operator_ready, timeout=timeout
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.operator_log()}") from None
        return pod

    def operator_log(self, lines: int = 80) -> str:
        result = self.plane.kubectl(
            "-n", RELEASE_NAMESPACE, "logs", f"deployment/{RELEASE}", f"--tail={lines}",
            check=False,
        )  # fmt: skip
        return result.stdout + result.stderr

    def metrics(self) -> str:
        """The operator's /metrics, fetched from its pod's address on the node's bridge."""
        pod = self.operator_ready()
        assert pod is not None, "the operator pod is not Ready"
        port = next(
            p["containerPort"]
            for p in pod["spec"]["containers"][0]["ports"]
            if p["name"] == "metrics"
        )
        if self._metrics_token is None:  # the chart serves /metrics securely: a reader's token
            self._metrics_token = namespace_user(
                self.plane,
                RELEASE_NAMESPACE,
                "metrics-reader",
                [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
                cluster_wide=True,
            )
        url = f"http://{pod['status']['podIP']}:{port}/metrics"
        headers = {"Authorization": f"Bearer {self._metrics_token}"}
        return httpx.get(url, headers=headers, timeout=5).text

    def stop_operator(self) -> None:
        """Scale the operator's Deployment to zero and wait until its pod is gone."""
        self.plane.kubectl(
            "-n", RELEASE_NAMESPACE, "scale", f"deployment/{RELEASE}", "--replicas=0"
        )
        eventually("the operator pod gone", lambda: self.operator_pod() is None, timeout=90)

    # ---- whole ----------------------------------------------------------------------------
    def start(self) -> Stack:
        self.agents = AgentServer(self.agent_port).start()
        # The agent listens on loopback; pods reach it at the node's bridge address.
        self.agents.base_url = f"http://{self.node.forward(self.agents.port)}"
        self.install_chart()
        self.wait_operator_ready()
        return self

    def stop(self) -> None:
        if self.installed:
            with contextlib.suppress(Exception):
                self.helm("uninstall", RELEASE, "--namespace", RELEASE_NAMESPACE, check=False)
            self.installed = False
        if self.agents is not None:
            self.agents.stop()
            self.agents = None
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
