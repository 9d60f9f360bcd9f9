"""The operator runs with the chart's own ServiceAccount token, not as admin, and reconciles.

`helm install` on the real control plane, then `scheduledrun operator` as a local process whose
kubeconfig holds a TokenRequest token of the chart's ServiceAccount (the way the README shows).
A ScheduledRun with an existing target must become Accepted with its CronJob and the runner's
ServiceAccount and RoleBinding; one in a namespace the operator does not watch stays untouched;
the operator's log must show no refused request. Covers the default install (ClusterRoleBinding)
and `watchNamespaces` (RoleBindings). Not covered: runner pods (tests/e2e).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devcluster.accounts import service_account_kubeconfig
from devcluster.cluster import ControlPlane, free_port
from tests import builders
from tests.integration.test_chart_cluster import helm
from tests.unit.test_crd_schema import CHART_DIR

pytestmark = pytest.mark.cluster

SCHEDULEDRUN = Path(sys.executable).with_name("scheduledrun")
# The user name is quoted, and the quotes are escaped when the body sits inside JSON text.
RBAC_REFUSAL = re.compile(r"forbidden: User \S+ cannot [a-z]+ resource")


def grant_namespace_watch(plane: ControlPlane, namespace: str, account: str) -> None:
    """List and watch namespaces for the account: what kopf needs when given `--namespace`."""
    name = f"{account}-test-ns"
    plane.kubectl("create", "clusterrole", name, "--verb=list,watch", "--resource=namespaces")
    plane.kubectl(
        "create",
        "clusterrolebinding",
        name,
        f"--clusterrole={name}",
        f"--serviceaccount={namespace}:{account}",
    )


def apply(plane: ControlPlane, *objects: dict[str, Any]) -> None:
    plane.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}),
    )


def agent(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "Agent",
        "metadata": {"name": "reporter", "namespace": namespace},
        "spec": {},
    }


def scheduledrun(namespace: str) -> dict[str, Any]:
    return builders.scheduledrun(
        "nightly",
        namespace,
        schedule="0 6 * * *",
        target="reporter",
        prompt="Summarise yesterday's alerts.",
    )


def accepted(plane: ControlPlane, namespace: str) -> str | None:
    result = plane.kubectl(
        "get", "scheduledrun", "nightly", "-n", namespace, "-o", "json", check=False
    )
    conditions = json.loads(result.stdout).get("status", {}).get("conditions", [])
    return next((c["status"] for c in conditions if c["type"] == "Accepted"), None)


@pytest.fixture
def namespaces(control_plane: ControlPlane) -> Iterator[tuple[str, str, str]]:
    """(release namespace, watched namespace, other namespace), deleted afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = (f"op-{suffix}", f"watched-{suffix}", f"other-{suffix}")
    for name in names:
        control_plane.kubectl("create", "namespace", name)
    yield names
    for name in names:
        control_plane.kubectl("delete", "namespace", name, "--wait=false", check=False)


# The operator always runs with `--namespace`: run cluster-wide in a test session, it would
# reconcile other tests' ScheduledRuns and rebind their runners to this release's ClusterRole.
# The cluster-wide grants of the default install are checked with `kubectl auth can-i -A` in
# test_chart_cluster.py. With `--namespace`, kopf lists and watches namespaces, which the chart
# grants only with watchNamespaces (its cluster-wide default never needs it); for the default
# install the test grants exactly that one extra rule, and nothing else may be refused.
@pytest.mark.parametrize(
    "watch_namespaces",
    [pytest.param(False, id="default-install"), pytest.param(True, id="watchNamespaces")],
)
def test_operator_reconciles_with_the_chart_service_account(
    control_plane: ControlPlane,
    namespaces: tuple[str, str, str],
    tmp_path: Path,
    watch_namespaces: bool,
) -> None:
    home, watched, other = namespaces
    release = f"op-{uuid.uuid4().hex[:6]}"
    values = ["--set-json", f"watchNamespaces={json.dumps([watched])}"] if watch_namespaces else []
    helm(control_plane, "install", release, str(CHART_DIR), "-n", home, *values)
    account = f"{release}-kagent-scheduledrun"
    if not watch_namespaces:
        grant_namespace_watch(control_plane, home, account)
    kubeconfig = service_account_kubeconfig(control_plane, home, account, tmp_path)
    log = tmp_path / "operator.log"
    apply(control_plane, agent(watched), scheduledrun(watched), agent(other), scheduledrun(other))
    with log.open("w") as out:
        operator = subprocess.Popen(
            [
                str(SCHEDULEDRUN),
                "operator",
                f"--namespace={watched}",
                f"--runner-cluster-role={account}-runner",
                f"--metrics-port={free_port()}",
                f"--health-port={free_port()}",
            ],
            env={**control_plane.env, "KUBECONFIG": str(kubeconfig)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            control_plane.wait_for(
                "Accepted=True", lambda: accepted(control_plane, watched) == "True", timeout=60
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; operator log: {log.read_text('utf-8')[-3000:]}") from None
        control_plane.kubectl("get", "cronjob", "nightly", "-n", watched)
        control_plane.kubectl("get", "serviceaccount", "kagent-scheduledrun-runner", "-n", watched)
        binding = control_plane.kubectl(
            "get", "rolebinding", "kagent-scheduledrun-runner", "-n", watched, "-o", "json"
        ).stdout
        assert json.loads(binding)["roleRef"]["name"] == f"{account}-runner"
        assert accepted(control_plane, other) is None
        missing = control_plane.kubectl("get", "cronjob", "nightly", "-n", other, check=False)
        assert missing.returncode != 0
    finally:
        operator.terminate()
        operator.wait(timeout=30)
        helm(control_plane, "uninstall", release, "-n", home, check=False)
        control_plane.kubectl(
            "delete", "clusterrole,clusterrolebinding", f"{account}-test-ns", check=False
        )
    text = log.read_text(encoding="utf-8")
    # An RBAC refusal reads `... is forbidden: User "system:serviceaccount:..." cannot ...`;
    # kopf reports its own as "Not enough permissions". (Other 403s, such as writes into a
    # namespace that another test is deleting, are not about the chart's permissions.)
    refusals = RBAC_REFUSAL.findall(text) + re.findall("Not enough permissions.*", text)
    assert refusals == [], text[-3000:]
