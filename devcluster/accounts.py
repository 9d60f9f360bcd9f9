"""Credentials of a ServiceAccount for processes that run as it outside a pod (the operator in
the chart and end-to-end tests, the demo): a kubeconfig holding a bound TokenRequest token."""

from __future__ import annotations

import json
from pathlib import Path

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
