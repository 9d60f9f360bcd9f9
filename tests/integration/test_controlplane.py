"""The loopback control plane and the kubelet stand-in themselves.

Covers: the CRDs (chart's ScheduledRun, test Agent/SandboxAgent) are served; helm and kubectl are
built; a start that fails shows the component's own log and leaves nothing behind; a full start
and stop leaves no process or folder; the stand-in runs only runner pods, refuses unmapped
programs like a controller would, and resolves the downward API (pure part, table-driven).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from devcluster import podspec
from devcluster.cluster import ControlPlane, ControlPlaneError
from devcluster.kubelet import KubeletStandIn
from runner import api

POD: dict[str, Any] = {
    "metadata": {
        "name": "nightly-29345-abcde",
        "namespace": "team-a",
        "uid": "pod-uid",
        "labels": {"batch.kubernetes.io/job-name": "nightly-29345", "app": "x"},
        "annotations": {"note": "hi"},
    },
    "spec": {"nodeName": "n1", "serviceAccountName": "runner", "containers": [{"name": "runner"}]},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("metadata.name", "nightly-29345-abcde", id="name"),
        pytest.param("metadata.namespace", "team-a", id="namespace"),
        pytest.param("metadata.uid", "pod-uid", id="uid"),
        pytest.param(
            "metadata.labels['batch.kubernetes.io/job-name']", "nightly-29345", id="label"
        ),
        pytest.param("metadata.annotations['note']", "hi", id="annotation"),
        pytest.param("metadata.labels['missing']", "", id="missing-label-is-empty"),
        pytest.param("spec.serviceAccountName", "runner", id="service-account"),
    ],
)
def test_field_ref_resolves_like_the_downward_api(path: str, expected: str) -> None:
    assert podspec.field_value(POD, path) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("--name=$(NAME)", "--name=nightly", id="known"),
        pytest.param("$(UNKNOWN)", "$(UNKNOWN)", id="unknown-stays"),
        pytest.param("$$(NAME)", "$(NAME)", id="escaped"),
        pytest.param("$(NAME)-$(NS)", "nightly-team-a", id="two"),
    ],
)
def test_var_references_expand_like_kubernetes(text: str, expected: str) -> None:
    assert podspec.expand(text, {"NAME": "nightly", "NS": "team-a"}) == expected


def test_plan_launch_maps_the_command_and_appends_args() -> None:
    container = {
        "name": "runner",
        "command": ["scheduledrun", "run"],
        "args": ["--name", "$(POD)"],
        "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
    }
    launch = podspec.plan_launch(POD, container, {"scheduledrun": "/venv/bin/scheduledrun"})
    assert launch == podspec.Launch(
        argv=["/venv/bin/scheduledrun", "run", "--name", "nightly-29345-abcde"],
        env={"POD": "nightly-29345-abcde"},
    )


@pytest.mark.parametrize(
    ("container", "message"),
    [
        pytest.param(
            {"name": "c", "command": ["curl"]}, "no local program for 'curl'", id="unmapped"
        ),
        pytest.param({"name": "c"}, "has no command", id="image-entrypoint"),
        pytest.param(
            {"name": "c", "command": ["true"], "envFrom": [{"secretRef": {"name": "s"}}]},
            "envFrom is not supported",
            id="env-from",
        ),
        pytest.param(
            {
                "name": "c",
                "command": ["true"],
                "env": [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
            },
            "['secretKeyRef'] is not supported",
            id="secret-env",
        ),
    ],
)
def test_plan_launch_refuses_what_it_cannot_run(container: dict[str, Any], message: str) -> None:
    with pytest.raises(podspec.PodSpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        podspec.plan_launch(POD, container, {"true": "/bin/true"})


@pytest.mark.parametrize(
    ("exit_code", "phase", "reason"),
    [
        pytest.param(0, "Succeeded", "Completed", id="zero"),
        pytest.param(3, "Failed", "Error", id="final"),
        pytest.param(143, "Failed", "Error", id="sigterm"),
    ],
)
def test_terminated_status_reports_phase_and_exit_code(
    exit_code: int, phase: str, reason: str
) -> None:
    status = podspec.terminated_status(
        POD,
        "runner",
        started="2026-01-01T00:00:00Z",
        finished="2026-01-01T00:00:01Z",
        exit_code=exit_code,
        reason=podspec.exit_reason(exit_code),
    )
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (status["phase"], terminated["exitCode"], terminated["reason"]) == (
        phase,
        exit_code,
        reason,
    )


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


def runner_pod(name: str, command: list[str], labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": api.RUNNER_CONTAINER,
                    "image": "example.invalid/runner:test",
                    "command": command,
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


@pytest.mark.cluster
def test_stand_in_runs_only_runner_pods_and_refuses_unmapped_programs(
    control_plane: ControlPlane, namespace: str, kubelet: KubeletStandIn
) -> None:
    runner_labels = {api.LABEL_COMPONENT: api.COMPONENT_RUNNER}
    with control_plane.client() as client:
        path = f"/api/v1/namespaces/{namespace}/pods"
        other = runner_pod("other", ["curl", "example.invalid"], {"app": "other"})
        assert client.post(path, json=other).status_code == 201
        unmapped = runner_pod("unmapped", ["curl", "example.invalid"], runner_labels)
        assert client.post(path, json=unmapped).status_code == 201
        run = kubelet.wait_for_runs(namespace, 1)[0]
        assert (run.pod, run.exit_code, run.reason) == ("unmapped", 128, "StartError")
        pods = {pod["metadata"]["name"]: pod for pod in client.get(path).json()["items"]}
    failed = pods["unmapped"]
    terminated = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (failed["status"]["phase"], failed["spec"]["nodeName"]) == ("Failed", kubelet.node_name)
    assert "no local program for 'curl'" in terminated["message"]
    assert "nodeName" not in pods["other"]["spec"]
    assert pods["other"]["status"]["phase"] == "Pending"


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
    state = tmp_path / "state"
    command = [sys.executable, "-m", "devcluster", "--state-dir", str(state), "--kubelet"]
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
        assert nodes.stdout.startswith("node/scheduledrun-standin-")
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
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
