"""`scheduledrun serve` as a local process against the development cluster, for the REST API's
integration tests, its benchmark and the demo: a free port, a log file, start/wait/stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx

from devcluster.children import die_with_parent
from devcluster.cluster import ControlPlane, free_port

REPO = Path(__file__).resolve().parents[1]
WAIT = 60.0


class ServerProcess:
    """`scheduledrun serve` in a subprocess. Auth mode `client` (default): it knows only where
    the apiserver is and its CA (flags; `from_kubeconfig`: the admin kubeconfig's cluster, whose
    credentials it must not use); `local`: the control plane's admin kubeconfig. `args`: more
    flags of `serve` (such as `--session-url`)."""

    def __init__(
        self,
        plane: ControlPlane,
        auth_mode: str = "client",
        args: Sequence[str] = (),
        from_kubeconfig: bool = False,
    ) -> None:
        self.plane = plane
        self.auth_mode = auth_mode
        self.from_kubeconfig = from_kubeconfig
        self.args = list(args)
        self.port = free_port()
        self.log = Path(tempfile.mkstemp(prefix="server-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        argv = [
            str(Path(sys.executable).with_name("scheduledrun")), "serve",
            "--auth-mode", self.auth_mode,
            "--port", str(self.port),
            "--log-level", "warning",
            *self.args,
        ]  # fmt: skip
        env = self.plane.env
        if self.auth_mode == "client" and self.from_kubeconfig:
            pass  # the apiserver's address and CA from the kubeconfig, as a kubectl user starts it
        elif self.auth_mode == "client":
            argv += ["--apiserver", self.plane.server]
            argv += ["--certificate-authority", str(self.plane.ca_file)]
            env.pop("KUBECONFIG", None)  # client mode must not find any credentials to use
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
                preexec_fn=die_with_parent(os.getpid()),
            )
        self.plane.wait_for("REST API server", self._healthy, timeout=WAIT)
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"scheduledrun serve exited:\n{self.tail()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
