"""The real node puts back every host setting it changes: kernel settings, mounts, cgroups,
network links, nftables rules and the fixed folders of devcluster/host.py. Named to run last
of the end-to-end tests, so its final check sees the host after every other node of the suite.

Covers: a node's own start and stop (the settings did change while it ran); Ctrl-C of
`python -m devcluster` with a pod running; the host after the whole suite equals the host
before the suite's first node.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devcluster import host
from devcluster.cluster import ControlPlane
from devcluster.images import Images
from devcluster.node import Node
from tests.signals import with_sigint_ignored

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def runner_pod(image: str) -> dict[str, Any]:
    """A restricted pod that keeps running (mounts, cgroups, a network namespace in use)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sleeper", "namespace": "default"},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "runAsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "sleeper",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": ["sleep", "600"],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                        "readOnlyRootFilesystem": True,
                    },
                }
            ],
        },
    }


def kubectl(bin_dir: Path, kubeconfig: str, *args: str, input: str | None = None) -> str:
    return subprocess.run(
        [str(bin_dir / "kubectl"), "--kubeconfig", kubeconfig, *args],
        input=input,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


def test_node_stop_puts_back_what_the_node_changed(
    control_plane: ControlPlane, images: Images, host_baseline: dict[str, Any]
) -> None:
    before = host.snapshot()
    with Node(control_plane, images.archives):
        control_plane.kubectl("apply", "-f", "-", input=json.dumps(runner_pod(images.runner)))
        control_plane.kubectl(
            "wait", "--for=condition=Ready", "pod/sleeper", "-n", "default", "--timeout=90s"
        )
        during = host.snapshot()
    after = host.snapshot()
    changed = {key for key in before if before[key] != during[key]}
    # The node did change the host (so this comparison can fail) ...
    assert {"sysctls", "mounts", "links", "nftables", "cgroups"} <= changed, changed
    # ... and put all of it back.
    assert after == before
    control_plane.kubectl("delete", "pod", "sleeper", "-n", "default", "--force", check=False)


def test_ctrl_c_of_the_cluster_command_puts_back_every_host_setting(
    control_plane: ControlPlane, images: Images, tmp_path: Path
) -> None:
    before = host.snapshot()
    state = tmp_path / "state"
    env = {
        **os.environ,
        "SCHEDULEDRUN_BIN_CACHE": str(control_plane.bin_dir.parents[1]),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        with_sigint_ignored([sys.executable, "-m", "devcluster", "--state-dir", str(state)]),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("export KUBECONFIG="):
                break
        assert any(line.startswith("node scheduledrun-node ready") for line in lines), lines
        kubeconfig = lines[-1].strip().removeprefix("export KUBECONFIG=")
        bin_dir = control_plane.bin_dir
        kubectl(
            bin_dir, kubeconfig, "apply", "-f", "-", input=json.dumps(runner_pod(images.runner))
        )
        kubectl(bin_dir, kubeconfig, "wait", "--for=condition=Ready", "pod/sleeper",
                "-n", "default", "--timeout=90s")  # fmt: skip
        assert host.snapshot() != before
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()  # its children die with it (devcluster/children.py)
            rest, _ = process.communicate()
    assert process.returncode == 0, rest
    assert host.snapshot() == before


def test_after_the_suite_the_host_is_as_before(host_baseline: dict[str, Any]) -> None:
    with host.machine_lock():  # no other run's node is up while the host is read
        assert host.snapshot() == host_baseline
