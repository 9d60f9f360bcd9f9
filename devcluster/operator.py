"""`scheduledrun operator` as a local process against the development cluster, for the
integration tests and the operator benchmark: free ports, a log file, start/wait/stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx

from devcluster.cgroup import MemoryCgroup
from devcluster.children import die_with_parent
from devcluster.cluster import ControlPlane, free_port

REPO = Path(__file__).resolve().parents[1]
WAIT = 60.0  # a busy 2-core machine: start-up ends in a few seconds


class OperatorProcess:
    """`scheduledrun operator` in a subprocess, its log in a temp file."""

    def __init__(
        self,
        plane: ControlPlane,
        *extra: str,
        profile: Path | None = None,
        env: Mapping[str, str] | None = None,
        cgroup: MemoryCgroup | None = None,
    ) -> None:
        self.plane = plane
        self.extra = extra
        # Environment variables besides the control plane's (the operator's SCHEDULEDRUN_*
        # fallbacks of its flags).
        self.env = dict(env or {})
        # Run inside this memory cgroup (a pod's limit without a node), as the kubelet would.
        self.cgroup = cgroup
        # Run under cProfile, writing its statistics here when the process exits (the
        # operator benchmark's --profile).
        self.profile = profile
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.log = Path(tempfile.mkstemp(prefix="operator-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        argv = [
            str(Path(sys.executable).with_name("scheduledrun")),
            "operator",
            "--a2a-base-url", "http://127.0.0.1:9",
            "--runner-image", "example.com/kagent-scheduledrun:test",
            "--runner-cluster-role", "kagent-scheduledrun-runner",
            "--metrics-port", str(self.metrics_port),
            "--health-port", str(self.health_port),
            "--metrics-bind-address", "127.0.0.1",
            "--health-address", "127.0.0.1",
            *self.extra,
        ]  # fmt: skip
        if self.profile is not None:
            argv = [sys.executable, "-m", "cProfile", "-o", str(self.profile), *argv]
        if self.cgroup is not None:
            argv = self.cgroup.command(argv)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**self.plane.env, **self.env},
                cwd=REPO,
                preexec_fn=die_with_parent(os.getpid()),
            )
        self.wait_healthy()
        return self

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"operator exited:\n{self.tail()}")
            try:
                url = f"http://127.0.0.1:{self.health_port}/healthz"
                return httpx.get(url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        self.plane.wait_for("operator liveness", healthy, timeout=WAIT)

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
