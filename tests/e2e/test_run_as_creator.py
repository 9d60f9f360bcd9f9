"""A run's session is its creator's, end to end on the real node.

A namespace user (a ServiceAccount's token) creates a ScheduledRun through the REST API
(`scheduledrun serve`, client mode), which writes `kagent.dev/created-by` from the token's user;
the product's CronJob makes a Job whose runner container runs on the real node and sends the
prompt to kagent's own agent runtime (kagent-langgraph, on the host's loopback); the runtime runs
the session as the creator, which is what kagent's UI files it under. Who may write another name
is the chart's admission policy: tests/integration/test_chart_cluster.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devcluster.accounts import namespace_user
from devcluster.cluster import ControlPlane, eventually
from devcluster.images import Images
from devcluster.node import Node
from devcluster.peers import KagentRuntime
from devcluster.server import ServerProcess
from devcluster.stack import sr_path
from generator.cronjob.config import OperatorConfig
from generator.cronjob.render import render_cronjob
from generator.spec.trigger import manual_job
from runner import api, history
from tests.node_runs import grant_runner_access, pod_url

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

# What the REST API needs to create and read a ScheduledRun as this user, nothing more.
CREATOR_RULES = [
    {"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": ["get", "list", "create"]}
]


@pytest.fixture(scope="module")
def kagent() -> Iterator[KagentRuntime]:
    with KagentRuntime() as runtime:
        yield runtime


@pytest.fixture(scope="module")
def server(control_plane: ControlPlane) -> Iterator[ServerProcess]:
    process = ServerProcess(control_plane).start()
    yield process
    process.stop()
    process.log.unlink(missing_ok=True)


def create_through_the_api(
    plane: ControlPlane, server: ServerProcess, namespace: str, agent: str
) -> dict[str, Any]:
    """The ScheduledRun as the user `alice` makes it with the REST API; the stored object."""
    token = namespace_user(plane, namespace, "alice", CREATOR_RULES)
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": "mine", "namespace": namespace},
        "spec": {
            "schedule": "@hourly",
            "prompt": "summarise my cluster",
            "targetRef": {"kind": "Agent", "name": agent},
            "timeout": "5m",
        },
    }
    with httpx.Client(base_url=f"{server.url}/api", headers=headers, timeout=30) as client:

        def created() -> dict[str, Any] | None:
            # RBAC reaches the apiserver's authorizer through an informer: retry until it applies.
            response = client.post("/scheduledruns", json=body)
            if response.status_code == 403:
                return None
            assert response.status_code == 201, response.text
            found: dict[str, Any] = response.json()["data"]
            return found

        made: dict[str, Any] = eventually("alice's create through the REST API", created)
    return made


def test_a_runs_session_carries_its_creator_at_kagents_runtime(
    control_plane: ControlPlane,
    namespace: str,
    node: Node,
    images: Images,
    kagent: KagentRuntime,
    server: ServerProcess,
) -> None:
    agent = f"echo-{namespace}"
    creator = f"system:serviceaccount:{namespace}:alice"
    sr = create_through_the_api(control_plane, server, namespace, agent)
    assert sr["metadata"]["annotations"][api.ANNOTATION_CREATED_BY] == creator

    # The product's CronJob for it (suspended: no ticks) and one manual Job, as `scheduledrun
    # trigger` makes it; the operator's default user stays kagent's default.
    config = OperatorConfig(
        a2a_base_url=pod_url(node, kagent),
        runner_service_account="default",
        runner_image=images.runner,
        image_pull_policy="Never",
    )
    with control_plane.client() as client:
        grant_runner_access(client, namespace)
        cronjob = render_cronjob(sr, config)
        cronjob["spec"]["suspend"] = True
        made = client.post(f"/apis/batch/v1/namespaces/{namespace}/cronjobs", json=cronjob)
        assert made.status_code == 201, made.text
        job = manual_job(made.json(), "mine-manual")
        started = client.post(f"/apis/batch/v1/namespaces/{namespace}/jobs", json=job)
        assert started.status_code == 201, started.text

    def ended() -> dict[str, Any] | None:
        with control_plane.client() as client:
            found = client.get(sr_path(namespace, "mine")).json()
        entries = (found.get("status") or {}).get("runHistory") or []
        return entries[0] if entries and history.is_terminal(entries[0]) else None

    entry: dict[str, Any] = eventually("the run's end", ended, timeout=240)
    assert entry["status"] == "Succeeded", entry
    # kagent's runtime ran the run's session (its A2A context) as the schedule's creator.
    assert [(d.context_id, d.user) for d in kagent.received_by(agent)] == [
        (entry["sessionID"], creator)
    ]
    assert {r["user"] for r in kagent.requests_to(agent)} == {creator}
