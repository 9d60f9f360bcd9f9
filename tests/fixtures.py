"""pytest fixtures for the development cluster (loaded as a plugin by tests/conftest.py).

- `control_plane` (session): etcd + kube-apiserver + kube-controller-manager on loopback, CRDs
  applied. Binaries come from $SCHEDULEDRUN_BIN_DIR, or from build.sh (a no-op once cached).
- `namespace` (function): a fresh namespace enforcing the "restricted" Pod Security Standard,
  with its `default` ServiceAccount in place; deleted afterwards.
- `kubelet` (function): the kubelet stand-in, running runner pods. A test may let it run other
  programs with `@pytest.mark.kubelet_commands({"sh": "/bin/sh"})` (tests of Kubernetes
  behaviour only; the product's pods always run `scheduledrun`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devcluster.cluster import ControlPlane, binaries
from devcluster.kubelet import KubeletStandIn, default_commands

# The label values a namespace needs for PodSecurity admission to enforce "restricted".
RESTRICTED_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kubelet_commands(mapping): extra command -> local program entries for the kubelet",
    )


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    plane = ControlPlane(binaries())
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture
def namespace(control_plane: ControlPlane) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": RESTRICTED_LABELS},
    }
    with control_plane.client() as client:
        client.post("/api/v1/namespaces", json=body).raise_for_status()

        def has_default_account() -> bool:
            path = f"/api/v1/namespaces/{name}/serviceaccounts/default"
            return client.get(path).status_code == 200

        control_plane.wait_for(f"ServiceAccount {name}/default", has_default_account, timeout=30)
    yield name
    with control_plane.client() as client:
        client.delete(
            f"/api/v1/namespaces/{name}"
        )  # not awaited: the namespace controller finishes it


@pytest.fixture
def kubelet(
    control_plane: ControlPlane, request: pytest.FixtureRequest
) -> Iterator[KubeletStandIn]:
    commands = default_commands()
    marker = request.node.get_closest_marker("kubelet_commands")
    if marker is not None:
        commands.update(marker.args[0])
    standin = KubeletStandIn(
        control_plane.server, control_plane.ssl_context(), control_plane.ca_file, commands=commands
    )
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
    # A failure inside the stand-in itself makes whatever the test saw suspect: say so loudly.
    assert not standin.errors, f"kubelet stand-in errors: {standin.errors}"
