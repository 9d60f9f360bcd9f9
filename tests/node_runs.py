"""What the end-to-end tests on the real node need to run the runner without the chart: where a
runner pod reaches a peer on the host's loopback, and the access the operator would give the
namespace's runner pods."""

from __future__ import annotations

from typing import Any

from devcluster.agents import AgentServer
from devcluster.node import Node
from devcluster.peers import PeerProcess
from runner import api


def pod_url(node: Node, peer: AgentServer | PeerProcess) -> str:
    """Where a runner pod reaches the peer (its loopback port, forwarded by the node)."""
    if isinstance(peer, AgentServer):
        return peer.base_url
    port = int(peer.base_url.rsplit(":", 1)[1])
    if port not in node.forwarded:
        node.forward(port)
    return f"http://{node.gateway}:{port}"


def grant_runner_access(client: Any, namespace: str) -> None:
    """What the operator gives runner pods: read the ScheduledRun and its Job, write status."""
    rules = [
        {"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": ["get"]},
        {
            "apiGroups": [api.GROUP],
            "resources": [f"{api.PLURAL}/status"],
            "verbs": ["get", "patch"],
        },
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get"]},
    ]
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"
    for path, body in [
        (f"{rbac}/roles", {"metadata": {"name": "runner"}, "rules": rules}),
        (
            f"{rbac}/rolebindings",
            {
                "metadata": {"name": "runner"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "runner",
                },
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
            },
        ),
    ]:
        response = client.post(path, json=body)
        assert response.status_code == 201, response.text
