"""pytest fixtures for the development cluster (loaded as a plugin by tests/conftest.py).

- `control_plane` (session): etcd + kube-apiserver + kube-controller-manager on loopback, CRDs
  applied. Binaries come from $SCHEDULEDRUN_BIN_DIR, or from build.sh (a no-op once cached).
- `namespace` (function): a fresh namespace enforcing the "restricted" Pod Security Standard,
  with its `default` ServiceAccount in place; deleted afterwards.
- `images` (session): the operator and runner images, built by scripts/images.sh (cached).
- `host_baseline` (session): `devcluster.host.snapshot()` before the session's first node.
- `node` (module): a real node (containerd, kubelet, kube-scheduler) with the images imported;
  stopped, and every host setting it changed put back, at the end of the module (so a test may
  start its own node in between: one node runs per machine at a time).
- `stack` (module): the product on that node (the chart's operator pod from the images, the A2A
  agent server); the operator's log is printed, which pytest shows when a test failed.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devcluster import host
from devcluster.cluster import RESTRICTED_LABELS, ControlPlane, binaries
from devcluster.images import Images, build_images
from devcluster.node import Node
from devcluster.operator import OperatorProcess
from devcluster.stack import Stack


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    plane = ControlPlane(binaries())
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


@contextlib.contextmanager
def fresh_namespace(plane: ControlPlane) -> Iterator[str]:
    """A new namespace under the restricted Pod Security labels, once its default ServiceAccount
    exists; deleted afterwards (not awaited: the namespace controller finishes it)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": RESTRICTED_LABELS},
    }
    with plane.client() as client:
        client.post("/api/v1/namespaces", json=body).raise_for_status()

        def has_default_account() -> bool:
            path = f"/api/v1/namespaces/{name}/serviceaccounts/default"
            return client.get(path).status_code == 200

        plane.wait_for(f"ServiceAccount {name}/default", has_default_account, timeout=30)
    try:
        yield name
    finally:
        with plane.client() as client:
            client.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture
def namespace(control_plane: ControlPlane) -> Iterator[str]:
    with fresh_namespace(control_plane) as name:
        yield name


@pytest.fixture
def other_namespace(control_plane: ControlPlane) -> Iterator[str]:
    """A second namespace, for a test of one namespace against another."""
    with fresh_namespace(control_plane) as name:
        yield name


@pytest.fixture(scope="session")
def images() -> Images:
    return build_images()


@pytest.fixture(scope="session")
def host_baseline() -> dict[str, Any]:
    """The host settings a node may change, as they were before the session's first node
    (read under the machine's node lock, so no other run's node is up meanwhile), after what a
    killed earlier run left is put back: the first node would put it back anyway, and the host
    would then differ from a baseline that still held it."""
    with host.machine_lock():
        host.HostGuard.repair_leftovers()
        return host.snapshot()


@pytest.fixture(scope="module")
def node(
    control_plane: ControlPlane, images: Images, host_baseline: dict[str, Any]
) -> Iterator[Node]:
    with Node(control_plane, images.archives) as running:
        yield running


@pytest.fixture(scope="module")
def stack(control_plane: ControlPlane, node: Node, images: Images) -> Iterator[Stack]:
    with Stack(control_plane, node, images) as running:
        yield running
        print(f"operator log (tail):\n{running.operator_log()}")


@pytest.fixture
def kube(control_plane: ControlPlane) -> Iterator[httpx.Client]:
    """An admin client of the control plane."""
    with control_plane.client() as client:
        yield client


@pytest.fixture
def operator(control_plane: ControlPlane) -> Iterator[OperatorProcess]:
    """`scheduledrun operator` as its own process; its log printed with SCHEDULEDRUN_KEEP_LOGS."""
    process = OperatorProcess(control_plane).start()
    yield process
    process.stop()
    if os.environ.get("SCHEDULEDRUN_KEEP_LOGS"):
        print(process.tail())
    process.log.unlink(missing_ok=True)
