"""`kubectl scheduledrun ...`: the real kubectl finds the package's `kubectl-scheduledrun` on
PATH (krew's naming) and runs it against the real control plane, with kubectl's `-n`,
`--kubeconfig` and `--context` flags given after the subcommand as kubectl passes them on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from devcluster.cluster import ControlPlane
from tests.kube_helpers import create, scheduledrun, write_history

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

VENV_BIN = Path(sys.executable).parent
ENTRY = {
    "id": "nightly-29000000",
    "trigger": "Scheduled",
    "scheduledTime": "2026-03-01T02:00:00Z",
    "startTime": "2026-03-01T02:00:01Z",
    "endTime": "2026-03-01T02:00:09Z",
    "status": "Succeeded",
    "message": "three noisy namespaces",
}


def kubectl(plane: ControlPlane, *args: str, kubeconfig: Path | None = None) -> str:
    env = plane.env
    env["PATH"] = f"{VENV_BIN}:{plane.bin_dir}:/usr/bin:/bin"
    if kubeconfig is not None:
        env.pop("KUBECONFIG")
    done = subprocess.run(
        [plane.kubectl_path(), *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kubectl_finds_the_plugin(control_plane: ControlPlane) -> None:
    listed = kubectl(control_plane, "plugin", "list", "--name-only")
    assert "kubectl-scheduledrun" in listed.split()


def test_history_through_kubectl_with_its_flags(
    control_plane: ControlPlane, kube: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    create(kube, namespace, scheduledrun("nightly"))
    write_history(kube, namespace, "nightly", [ENTRY])

    printed = kubectl(control_plane, "scheduledrun", "history", "nightly", "-n", namespace)
    header, row = printed.splitlines()
    assert header.split() == ["ID", "TRIGGER", "STATUS", "SCHEDULED", "STARTED", "ENDED", "MESSAGE"]
    assert row.split()[:3] == ["nightly-29000000", "Scheduled", "Succeeded"]

    # A kubeconfig of its own whose context "team" points at the namespace: --kubeconfig and
    # --context choose it, and the namespace comes from that context, as kubectl's would.
    config = yaml.safe_load(control_plane.kubeconfig.read_text(encoding="utf-8"))
    (current,) = config["contexts"]
    team = {"name": "team", "context": {**current["context"], "namespace": namespace}}
    config["contexts"] = [current, team]
    own = tmp_path / "team.kubeconfig"
    own.write_text(yaml.safe_dump(config), encoding="utf-8")
    as_json = kubectl(
        control_plane,
        "scheduledrun",
        "history",
        "nightly",
        "--kubeconfig",
        str(own),
        "--context",
        "team",
        "-o",
        "json",
        kubeconfig=own,
    )
    assert yaml.safe_load(as_json) == [ENTRY]
