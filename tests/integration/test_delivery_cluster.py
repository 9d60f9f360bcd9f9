"""`spec.delivery` with `scheduledrun run` as a process against the real kube-apiserver (the CRD
admits and stores each destination's record), the a2a-sdk agents and a webhook receiver on
loopback (devcluster/receiver.py).

Covers: onChange across three runs (pass, fail, pass: two deliveries, the first pass quiet); a
runner SIGKILLed once its delivery is recorded and run again for its Job: no second delivery; a
runner SIGKILLed after the receiver answered but before the record: the rerun delivers again
with the same idempotency key (the README's one case of twice); a receiver that is down: the
delivery Failed, the run's status and exit code as without it; a receiver answering 503 twice
then 200: three attempts, Delivered, and the operator (a local process) counting it once in
`kagent_scheduledrun_delivery_total`; bad destinations refused by the CRD at admission; an
unknown prompt variable making the operator's verdict Accepted False, InvalidSpec. The rendered
pod's Secret env and a signed delivery on the real node: tests/e2e/test_delivery.py.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devcluster.agents import AgentServer, running
from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from devcluster.receiver import Receiver
from runner import api, delivery
from tests.kube_helpers import accepted, create_agent, patch_spec, wait_condition
from tests.runner_process import T0, create_job, create_scheduledrun, kill_at, run_history
from tests.runner_process import start_runner as start

pytestmark = pytest.mark.cluster

KEY = b"integration-signing-key"
HOOK = {
    "name": "ops",
    "url": {"secretKeyRef": {"name": "hooks", "key": "url"}},
    "signingKey": {"secretKeyRef": {"name": "hooks", "key": "key"}},
}


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


def env_for(url: str) -> dict[str, str]:
    """What the kubelet puts in the pod from the Secret (the e2e test has the kubelet do it)."""
    return {delivery.env_name("ops", "URL"): url, delivery.env_name("ops", "KEY"): KEY.decode()}


def retarget(plane: ControlPlane, namespace: str, name: str, agent: str) -> None:
    patch = {"spec": {"targetRef": {"kind": "Agent", "name": agent}}}
    plane.kubectl(
        "-n", namespace, "patch", "sr", name, "--type", "merge", "-p", json.dumps(patch)
    )  # fmt: skip


def entry_of(plane: ControlPlane, namespace: str, name: str, job: str) -> dict[str, Any]:
    found = [e for e in run_history(plane, namespace, name) if e["id"] == job]
    assert found, run_history(plane, namespace, name)
    return found[0]


def run_once(
    plane: ControlPlane, agents: AgentServer, namespace: str, name: str, job: str, minute: int,
    url: str,
) -> tuple[int, str]:  # fmt: skip
    uid = create_job(plane, namespace, job, T0 + timedelta(minutes=minute))
    runner = start(plane, agents, namespace, name, job, uid, "1.0", env_for(url))
    _, err = runner.communicate(timeout=120)
    return runner.returncode, err


def test_on_change_across_pass_fail_pass_delivers_twice(
    control_plane: ControlPlane, namespace: str, agents: AgentServer
) -> None:
    plane = control_plane
    create_scheduledrun(
        plane, namespace, "check", "echo-check", delivery=[{**HOOK, "onChange": True}]
    )
    with Receiver(key=KEY) as receiver:
        for minute, agent in enumerate(["echo-check", "fail-check", "echo-check"]):
            retarget(plane, namespace, "check", agent)
            code, err = run_once(plane, agents, namespace, "check", f"check-{minute}", minute,
                                 receiver.url)  # fmt: skip
            assert code in (api.EXIT_SUCCEEDED, api.EXIT_FINAL_FAILURE), err
    got = [(r.payload["run"]["id"], r.payload["run"]["status"]) for r in receiver.received]
    assert got == [("check-1", "Failed"), ("check-2", "Succeeded")]
    assert all(r.verified for r in receiver.received)
    results = {e["id"]: e["delivery"][0]["result"] for e in run_history(plane, namespace, "check")}
    assert results == {"check-0": "Skipped", "check-1": "Delivered", "check-2": "Delivered"}


def test_killed_after_the_record_is_not_delivered_again(
    control_plane: ControlPlane, namespace: str, agents: AgentServer
) -> None:
    plane = control_plane
    create_scheduledrun(plane, namespace, "once", "echo-once", delivery=[HOOK])
    uid = create_job(plane, namespace, "once-1", T0)
    with Receiver(key=KEY) as receiver:
        runner = start(
            plane, agents, namespace, "once", "once-1", uid, "1.0", env_for(receiver.url)
        )
        kill_at(runner, "delivery-recorded")
        rerun = start(plane, agents, namespace, "once", "once-1", uid, "1.0", env_for(receiver.url))
        _, err = rerun.communicate(timeout=120)
        assert rerun.returncode == api.EXIT_SUCCEEDED, err
    assert len(receiver.received) == 1
    assert "delivery-resumed" not in err
    record = entry_of(plane, namespace, "once", "once-1")["delivery"][0]
    assert (record["result"], record["attempts"], record["code"]) == ("Delivered", 1, 200)


def test_killed_between_the_answer_and_the_record_delivers_again_with_the_same_key(
    control_plane: ControlPlane, namespace: str, agents: AgentServer
) -> None:
    plane = control_plane
    create_scheduledrun(plane, namespace, "twice", "echo-twice", delivery=[HOOK])
    uid = create_job(plane, namespace, "twice-1", T0)
    with Receiver(key=KEY) as receiver:
        runner = start(
            plane, agents, namespace, "twice", "twice-1", uid, "1.0", env_for(receiver.url)
        )
        kill_at(runner, "delivered")  # the receiver answered 200; the record never landed
        assert entry_of(plane, namespace, "twice", "twice-1")["delivery"][0]["result"] == "Sending"
        rerun = start(
            plane, agents, namespace, "twice", "twice-1", uid, "1.0", env_for(receiver.url)
        )
        _, err = rerun.communicate(timeout=120)
        assert rerun.returncode == api.EXIT_SUCCEEDED, err
    assert "delivery-resumed" in err
    keys = [r.headers["idempotency-key"] for r in receiver.received]
    assert keys == [f"{namespace}/twice-1"] * 2
    assert entry_of(plane, namespace, "twice", "twice-1")["delivery"][0]["result"] == "Delivered"
    assert len(agents.received_by("echo-twice")) == 1  # the run itself was sent once


def test_receiver_down_is_recorded_and_the_run_keeps_its_status(
    control_plane: ControlPlane, namespace: str, agents: AgentServer
) -> None:
    plane = control_plane
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    create_scheduledrun(plane, namespace, "down", "fail-down", delivery=[HOOK])
    code, err = run_once(plane, agents, namespace, "down", "down-1", 0, down)
    assert code == api.EXIT_FINAL_FAILURE, err  # the agent's failure, as without delivery
    entry = entry_of(plane, namespace, "down", "down-1")
    assert entry["status"] == "Failed"
    record = entry["delivery"][0]
    assert record["result"] == "Failed"
    assert record["attempts"] >= 3
    assert "ConnectError" in record["error"]
    shown = plane.kubectl("-n", namespace, "get", "sr", "down", "-o", "wide").stdout
    assert "down-1: ops Failed (no answer)" in shown


def test_503_twice_then_delivered_and_counted_once_by_the_operator(
    control_plane: ControlPlane, namespace: str, agents: AgentServer, operator: OperatorProcess
) -> None:
    plane = control_plane
    create_scheduledrun(plane, namespace, "counted", "echo-counted", delivery=[HOOK])
    with Receiver(key=KEY, answers=[503, 503]) as receiver:
        code, err = run_once(plane, agents, namespace, "counted", "counted-1", 0, receiver.url)
    assert code == api.EXIT_SUCCEEDED, err
    assert [r.answered for r in receiver.received] == [503, 503, 200]
    record = entry_of(plane, namespace, "counted", "counted-1")["delivery"][0]
    assert (record["result"], record["attempts"], record["code"]) == ("Delivered", 3, 200)
    labels = frozenset({("namespace", namespace), ("name", "counted"), ("result", "Delivered")})
    key = ("kagent_scheduledrun_delivery_total", labels)

    def counted() -> float | None:
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(operator.metrics())
            for s in family.samples
        }.get(key)

    assert eventually("the delivery counted", counted, timeout=60) == 1


@pytest.mark.parametrize(
    ("destination", "said"),
    [
        pytest.param({**HOOK, "format": "teams"}, "supported values", id="unknown-format"),
        pytest.param({"name": "ops", "url": "https://hooks.example/x"}, "url", id="url-inline"),
        pytest.param({**HOOK, "when": ["Pending"]}, "when", id="when-pending"),
        pytest.param({**HOOK, "name": "Ops_1"}, "name", id="bad-name"),
    ],
)
def test_the_crd_refuses_a_bad_destination_at_admission(
    control_plane: ControlPlane, namespace: str, destination: dict[str, Any], said: str
) -> None:
    body = {
        "apiVersion": api.API_VERSION, "kind": api.KIND,
        "metadata": {"name": "refused", "namespace": namespace},
        "spec": {"schedule": "@daily", "targetRef": {"kind": "Agent", "name": "a"},
                 "prompt": "p", "delivery": [destination]},
    }  # fmt: skip
    result = control_plane.kubectl("apply", "-f", "-", input=json.dumps(body), check=False)
    assert result.returncode != 0
    assert "spec.delivery[0]" in result.stderr
    assert said in result.stderr


def test_an_unknown_prompt_variable_is_the_operators_invalid_spec(
    control_plane: ControlPlane, namespace: str, kube: httpx.Client, operator: OperatorProcess
) -> None:
    create_agent(kube, namespace, "echo-vars")
    create_scheduledrun(control_plane, namespace, "vars", "echo-vars", promptVariables=True,
                        prompt="Events of {{ scheduledDate }} and {{ all }}")  # fmt: skip
    sr = wait_condition(kube, namespace, "vars", "False", "InvalidSpec")
    message = accepted(sr)["message"]  # type: ignore[index]
    assert "unknown variable {{all}}" in message
    assert "known variables: scheduledTime" in message
    patch_spec(kube, namespace, "vars", {"prompt": "Events of {{ scheduledDate }}, not \\{{all}}"})
    wait_condition(kube, namespace, "vars", "True", "ScheduleAccepted")
