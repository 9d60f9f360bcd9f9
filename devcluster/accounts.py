"""Credentials of a ServiceAccount for processes that run as it outside a pod (the operator in
the chart and end-to-end tests, the demo): a kubeconfig holding a bound TokenRequest token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devcluster.cluster import ControlPlane


def service_account_kubeconfig(
    plane: ControlPlane, namespace: str, account: str, folder: Path
) -> Path:
    """A kubeconfig that authenticates as `namespace/account` with a one-hour bound token."""
    token = plane.kubectl("-n", namespace, "create", "token", account, "--duration=1h").stdout
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": plane.server, "certificate-authority": str(plane.ca_file)},
            }
        ],
        "users": [{"name": account, "user": {"token": token.strip()}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": account}}],
        "current-context": "c",
    }
    path = folder / f"{account}.kubeconfig"
    path.write_text(json.dumps(config), encoding="utf-8")
    path.chmod(0o600)
    return path


def namespace_user(
    plane: ControlPlane,
    namespace: str,
    account: str,
    rules: list[dict[str, Any]],
    cluster_wide: bool = False,
) -> str:
    """A user of the cluster made of a ServiceAccount in `namespace`, allowed `rules` there (a
    Role and RoleBinding) or everywhere (`cluster_wide`: a ClusterRole and ClusterRoleBinding);
    returns a one-hour bound token of it (TokenRequest)."""
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    role_kind = "ClusterRole" if cluster_wide else "Role"
    role_name = f"{namespace}-{account}" if cluster_wide else account
    where = "" if cluster_wide else f"/namespaces/{namespace}"
    plural = "clusterroles" if cluster_wide else "roles"
    binding_plural = "clusterrolebindings" if cluster_wide else "rolebindings"
    meta: dict[str, Any] = {"name": role_name}
    if not cluster_wide:
        meta["namespace"] = namespace
    with plane.client() as client:
        client.post(
            f"/api/v1/namespaces/{namespace}/serviceaccounts",
            json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}},
        ).raise_for_status()
        client.post(
            f"{rbac}{where}/{plural}",
            json={"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind,
                  "metadata": meta, "rules": rules},
        ).raise_for_status()  # fmt: skip
        client.post(
            f"{rbac}{where}/{binding_plural}",
            json={
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": f"{role_kind}Binding",
                "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                            "name": role_name},
                "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
            },
        ).raise_for_status()  # fmt: skip
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600},
        }
        answer = client.post(
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token", json=request
        )
        answer.raise_for_status()
        return str(answer.json()["status"]["token"])
