"""The loopback control plane itself.

Covers: the CRDs (chart's ScheduledRun, test Agent/SandboxAgent) are served; helm and kubectl are
built; a start that fails shows the component's own log and leaves nothing behind; a full start
and stop leaves no process or folder; `python -m devcluster --no-node` prints the kubeconfig and
stops on Ctrl-C. The real node is tested in tests/e2e/test_node_*.py.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devcluster.cluster import ControlPlane, ControlPlaneError
from runner import api
from tests.signals import with_sigint_ignored


def fake_bin(folder: Path, etcd_script: str) -> Path:
    folder.mkdir()
    for name in ("etcd", "kube-apiserver", "kube-controller-manager"):
        path = folder / name
        path.write_text(etcd_script if name == "etcd" else "#!/bin/sh\nexit 1\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return folder


def test_failed_start_raises_with_the_components_log(tmp_path: Path) -> None:
    bin_dir = fake_bin(
        tmp_path / "bin",
        "#!/bin/sh\necho 'etcdmain: listen tcp: address already in use' >&2\nexit 2\n",
    )
    plane = ControlPlane(bin_dir)
    with pytest.raises(ControlPlaneError, match="etcd exited with code 2") as error:
        plane.start()
    assert "address already in use" in str(error.value)
    assert not plane.state_dir.exists()


@pytest.mark.cluster
def test_crds_are_established(control_plane: ControlPlane) -> None:
    names = control_plane.kubectl("get", "crd", "-o", "name").stdout.split()
    for crd in ("scheduledruns", "agents", "sandboxagents"):
        assert f"customresourcedefinition.apiextensions.k8s.io/{crd}.kagent.dev" in names


@pytest.mark.cluster
def test_agents_and_sandbox_agents_can_be_created_listed_and_deleted(
    control_plane: ControlPlane, namespace: str
) -> None:
    documents = [
        {
            "apiVersion": api.API_VERSION,
            "kind": kind,
            "metadata": {"name": "helper"},
            "spec": {"any": {"x": 1}},
        }
        for kind in ("Agent", "SandboxAgent")
    ]
    control_plane.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump_all(documents))
    listed = control_plane.kubectl(
        "get", "agents,sandboxagents", "-n", namespace, "-o", "name"
    ).stdout.split()
    assert listed == ["agent.kagent.dev/helper", "sandboxagent.kagent.dev/helper"]
    control_plane.kubectl("delete", "agent,sandboxagent", "helper", "-n", namespace, "--wait")
    assert (
        control_plane.kubectl("get", "agents,sandboxagents", "-n", namespace, "-o", "name").stdout
        == ""
    )


@pytest.mark.cluster
def test_helm_and_kubectl_are_built_at_the_pinned_versions(control_plane: ControlPlane) -> None:
    helm = control_plane.bin_dir / "helm"
    assert os.access(helm, os.X_OK)
    version = subprocess.run(
        [str(helm), "version", "--short"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("v3.")
    client = control_plane.kubectl("version", "-o", "yaml").stdout
    versions = yaml.safe_load(client)
    assert versions["serverVersion"]["gitVersion"].startswith("v1.34.")
    assert versions["clientVersion"]["gitVersion"] == versions["serverVersion"]["gitVersion"]


@pytest.mark.cluster
def test_a_second_control_plane_starts_and_stops_without_leftovers(
    control_plane: ControlPlane,
) -> None:
    plane = ControlPlane(control_plane.bin_dir)
    plane.start()
    try:
        assert plane.port != control_plane.port
        assert plane.kubectl("get", "crd", "scheduledruns.kagent.dev", "-o", "name").returncode == 0
        pids = [component.process.pid for component in plane.components]
    finally:
        plane.stop()
    assert not plane.state_dir.exists()
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


@pytest.mark.cluster
def test_cluster_command_prints_kubeconfig_and_stops_on_ctrl_c(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    """Started with SIGINT ignored, as a background job of a script would be (tests/signals.py):
    Ctrl-C still stops it."""
    state = tmp_path / "state"
    command = with_sigint_ignored(
        [sys.executable, "-m", "devcluster", "--state-dir", str(state), "--no-node"]
    )
    env = {**os.environ, "SCHEDULEDRUN_BIN_CACHE": str(control_plane.bin_dir.parents[1])}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("export KUBECONFIG="):
                break
        kubeconfig = lines[-1].strip().removeprefix("export KUBECONFIG=")
        assert kubeconfig == str(state / "admin.kubeconfig"), lines
        nodes = subprocess.run(
            [
                control_plane.kubectl_path(),
                "--kubeconfig",
                kubeconfig,
                "get",
                "nodes",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert nodes.stdout == ""
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()  # its children die with it (devcluster/children.py)
            _, err = process.communicate()
    assert process.returncode == 0, err
    assert "control plane stopped" in err
    assert not processes_mentioning(str(state))


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain text."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in line:
            found.append(line)
    return found
