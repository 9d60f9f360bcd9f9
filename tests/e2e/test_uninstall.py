"""`helm uninstall` with the operator having served a namespace: what the operator made for the
runner (ServiceAccount, RoleBinding) goes with the chart; what the user owns (the CRD, their
ScheduledRuns and the CronJobs those own) stays. Covers the operator's side of uninstalling; the
chart's own objects are checked in tests/integration/test_chart_cluster.py."""

from __future__ import annotations

import json

import pytest

from devcluster.cluster import ControlPlane, eventually
from devcluster.images import Images
from devcluster.node import Node
from devcluster.stack import RELEASE, RELEASE_NAMESPACE, Stack
from runner import api

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

RUNNER_ACCOUNT = "kagent-scheduledrun-runner"


def names(plane: ControlPlane, namespace: str, kinds: str) -> set[str]:
    out = plane.kubectl("-n", namespace, "get", kinds, "-o", "name").stdout
    return set(out.split())


def test_uninstall_removes_runner_access_and_keeps_user_objects(
    control_plane: ControlPlane, namespace: str, node: Node, images: Images
) -> None:
    plane = control_plane
    stack = Stack(plane, node, images).start()
    try:
        plane.kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps(
                {
                    "apiVersion": api.API_VERSION,
                    "kind": "Agent",
                    "metadata": {"name": "echo-a", "namespace": namespace},
                    "spec": {},
                }
            ),
        )
        plane.kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps(
                {
                    "apiVersion": api.API_VERSION,
                    "kind": api.KIND,
                    "metadata": {"name": "kept", "namespace": namespace},
                    "spec": {
                        "schedule": "0 3 * * *",
                        "prompt": "hi",
                        "targetRef": {"kind": "Agent", "name": "echo-a"},
                    },
                }
            ),
        )
        runner_access = {
            f"serviceaccount/{RUNNER_ACCOUNT}",
            f"rolebinding.rbac.authorization.k8s.io/{RUNNER_ACCOUNT}",
        }
        eventually(
            "the runner's ServiceAccount and RoleBinding",
            lambda: runner_access <= names(plane, namespace, "serviceaccounts,rolebindings"),
            timeout=60,
        )
        eventually("the CronJob", lambda: names(plane, namespace, "cronjobs"), timeout=60)
        stack.stop_operator()
        stack.helm("uninstall", RELEASE, "--namespace", RELEASE_NAMESPACE)
        stack.installed = False

        eventually(
            "runner access garbage-collected",
            lambda: not runner_access & names(plane, namespace, "serviceaccounts,rolebindings"),
            timeout=90,
        )
        assert names(plane, namespace, "scheduledruns") == {"scheduledrun.kagent.dev/kept"}
        assert names(plane, namespace, "cronjobs") == {"cronjob.batch/kept"}
        leftover = plane.kubectl("get", "clusterroles,clusterrolebindings", "-o", "name").stdout
        assert RELEASE not in leftover
    finally:
        stack.stop()
