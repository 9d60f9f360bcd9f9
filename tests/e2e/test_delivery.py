"""Delivery and prompt variables on the real node: the chart installed, the operator's pod, the
real CronJob and Job controllers, runner containers from the runner image, the kubelet reading
the Secret into the runner's environment, a webhook receiver on the test machine's loopback
reached at the node's bridge address (devcluster/receiver.py).

Covers: a scheduled tick whose prompt the agent receives with its variables filled in the
ScheduledRun's zone (Europe/Berlin), delivered to the receiver with a signature it verifies with
the Secret's key, the whole answer in the body; `when: [Failed]` delivering a failing run and
not a passing one; the runner's ServiceAccount unable to read Secrets; the result in `kubectl get
sr -o wide`. Retries, onChange, a receiver that is down, a rerun after a kill and the operator's
`kagent_scheduledrun_delivery_total` are runner and operator processes on the real control
plane (tests/integration/test_delivery_cluster.py); every rule's edge is a unit table
(tests/unit/test_delivery.py, tests/unit/test_prompt_variables.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.cluster import ControlPlane, eventually
from devcluster.receiver import Receiver
from devcluster.stack import Stack
from runner import api, history, variables
from tests.kube_helpers import apply, get_sr

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

KEY = b"e2e-delivery-signing-key"
PROMPT = (
    "Summarise the warnings of {{scheduledDate}} (tick {{scheduledTime}}, run {{runNumber}},"
    " {{trigger}}) for {{namespace}}/{{name}}; last run: {{previousStatus}}. Keep \\{{braces}}."
)
ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
def receiver(stack: Stack) -> Iterator[tuple[Receiver, str]]:
    """The receiver, and its URL as the runner pods reach it (the node's bridge address)."""
    with Receiver(key=KEY) as running:
        yield running, f"http://{stack.node.forward(running.port)}/hook"


def secret(namespace: str, url: str) -> dict[str, Any]:
    data = {"url": url.encode(), "key": KEY}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "report-webhook", "namespace": namespace},
        "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
    }


def destination(**fields: Any) -> dict[str, Any]:
    return {
        "name": "ops",
        "url": {"secretKeyRef": {"name": "report-webhook", "key": "url"}},
        "signingKey": {"secretKeyRef": {"name": "report-webhook", "key": "key"}},
        **fields,
    }


def scheduledrun(name: str, namespace: str, agent: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"targetRef": {"kind": "Agent", "name": agent}, "timeout": "1m", **spec},
    }


def agent(name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": api.API_VERSION, "kind": "Agent",
            "metadata": {"name": name, "namespace": namespace}, "spec": {}}  # fmt: skip


def settled(plane: ControlPlane, namespace: str, name: str, job: str | None = None) -> Any:
    """The oldest entry (or the one of `job`) that ended with its deliveries all recorded."""

    def probe() -> dict[str, Any] | None:
        with plane.client() as client:
            found = get_sr(client, namespace, name)
        for entry in reversed((found.get("status") or {}).get("runHistory") or []):
            if job is not None and entry["id"] != job:
                continue
            results = [d["result"] for d in entry.get("delivery") or []]
            if entry["status"] in api.TERMINAL_STATUSES and results and "Sending" not in results:
                return dict(entry)
        return None

    return eventually(f"a run of {name} with its delivery recorded", probe, timeout=180)


def run_now(plane: ControlPlane, namespace: str, name: str, job: str) -> None:
    plane.kubectl("-n", namespace, "create", "job", f"--from=cronjob/{name}", job)


def test_delivered_signed_with_the_prompt_filled_and_only_when_asked(
    stack: Stack, control_plane: ControlPlane, namespace: str, receiver: tuple[Receiver, str]
) -> None:
    plane = control_plane
    hook, url = receiver
    assert stack.agents is not None
    apply(plane, secret(namespace, url))
    for name in ("echo-report", "fail-alerts", "echo-alerts"):
        apply(plane, agent(name, namespace))
    apply(plane, scheduledrun("report", namespace, "echo-report", schedule="*/1 * * * *",
                              timeZone=ZONE, promptVariables=True, prompt=PROMPT,
                              delivery=[destination()]))  # fmt: skip
    apply(plane, scheduledrun("alerts", namespace, "fail-alerts", schedule="0 0 1 1 *",
                              suspend=True, prompt="check the cluster",
                              delivery=[destination(when=["Failed"])]))  # fmt: skip

    # The runner's ServiceAccount reads no Secrets: the kubelet gives the pod the two values.
    can = plane.kubectl(
        "auth", "can-i", "get", "secrets", "-n", namespace,
        f"--as=system:serviceaccount:{namespace}:kagent-scheduledrun-runner", check=False,
    )  # fmt: skip
    assert can.stdout.strip() == "no", can.stdout + can.stderr

    # A failing run is delivered under when: [Failed] ...
    def cronjob() -> bool:
        return (
            plane.kubectl("-n", namespace, "get", "cronjob", "alerts", check=False).returncode == 0
        )

    eventually("the alerts CronJob", cronjob, timeout=60)
    run_now(plane, namespace, "alerts", "alerts-failing")
    failing = settled(plane, namespace, "alerts", "alerts-failing")
    assert failing["status"] == "Failed"
    assert failing["delivery"][0]["result"] == "Delivered"
    # ... a passing one is not.
    retarget = {"spec": {"targetRef": {"kind": "Agent", "name": "echo-alerts"}}}
    plane.kubectl("-n", namespace, "patch", "sr", "alerts", "--type", "merge",
                  "-p", json.dumps(retarget))  # fmt: skip
    run_now(plane, namespace, "alerts", "alerts-passing")
    passing = settled(plane, namespace, "alerts", "alerts-passing")
    assert passing["status"] == "Succeeded"
    assert passing["delivery"][0]["result"] == "Skipped"
    alerts = [r for r in hook.received if r.payload["scheduledRun"]["name"] == "alerts"]
    assert [r.payload["run"]["id"] for r in alerts] == ["alerts-failing"]

    # The scheduled tick of `report`: the agent got the prompt filled in Berlin's time.
    entry = settled(plane, namespace, "report")
    assert entry["trigger"] == "Scheduled"
    tick = history.parse_time(entry["scheduledTime"])
    assert tick is not None
    zone = variables.zone_of({"timeZone": ZONE})
    expected = (
        f"Summarise the warnings of {tick.astimezone(zone).date().isoformat()} (tick"
        f" {variables.format_local(tick, zone)}, run 1, Scheduled) for {namespace}/report;"
        " last run: none. Keep {{braces}}."
    )
    received = [r.text for r in stack.agents.received_by("echo-report")
                if r.context_id == entry["sessionID"]]  # fmt: skip
    assert received == [expected]
    # Delivered, signed with the Secret's key, carrying the whole answer and the entry.
    (report,) = [r for r in hook.received if r.payload["run"]["id"] == entry["id"]]
    assert report.verified
    assert report.headers["idempotency-key"] == f"{namespace}/{entry['id']}"
    assert report.payload["answer"] == f"echo: {expected}"
    assert report.payload["run"]["status"] == "Succeeded"
    assert entry["delivery"][0] | {"time": "t"} == {
        "name": "ops", "result": "Delivered", "attempts": 1, "code": 200, "time": "t"}  # fmt: skip

    # Where a platform engineer looks: kubectl get sr -o wide.
    plane.kubectl("-n", namespace, "patch", "sr", "report", "--type", "merge",
                  "-p", '{"spec":{"suspend":true}}')  # fmt: skip
    wide = plane.kubectl("-n", namespace, "get", "sr", "alerts", "-o", "wide").stdout
    assert "DELIVERY" in wide
    assert "alerts-passing: ops Skipped" in wide
