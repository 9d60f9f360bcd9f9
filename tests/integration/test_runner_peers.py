"""The runner against every A2A peer, on the real control plane (kube-apiserver, etcd).

Peers: the official a2a-sdk 1.x server (devcluster/agents.py) in protocol 1.0 and 0.3; kagent's
own Python runtime (kagent-langgraph's KAgentApp, protocol 0.3, in its own environment); a2a-go
v2 (the library of kagent's controller, protocol 1.0) fronted like that controller
(devcluster/peers.py); in the scenario table also kagent's runtime for declarative Agents
(kagent-adk, Google ADK, protocol 0.3), its model an OpenAI-compatible one on loopback.
Deliveries are counted at the agent (each time it starts on, or accepts, a message).

- the scenario table: every outcome over every peer, each with its status and message;
- kagent-adk's event stream carrying every Unicode line separator raw in its JSON (issue 22);
- the delivery rule through a misbehaving proxy (devcluster/faultproxy.py): at most one
  delivery always, exactly one wherever the protocol can look the task up (1.0);
- identity: user and token arrive, the token is nowhere in logs or status, a redirect to
  another origin is not followed.

The runner runs in this process (runner.run.Run with the real Kubernetes API, so its timeouts
can be short); runs as a process, killed and restarted, are in `test_runner_killed_*`.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devcluster.agents import AgentServer
from devcluster.cluster import ControlPlane
from devcluster.faultproxy import SUBSCRIBE_METHODS, Fault, FaultProxy
from devcluster.peers import A2AGoServer, KagentAdkRuntime, KagentRuntime, PeerProcess
from runner import api
from runner.kube import KubeClient, kubeconfig_credentials
from runner.run import Log, Run, Settings
from tests.runner_process import (
    SCHEDULEDRUN,
    T0,
    create_job,
    create_scheduledrun,
    kill_at,
    run_history,
)

pytestmark = pytest.mark.cluster

PROMPT = "write the nightly report"


@dataclass(frozen=True)
class Peer:
    """One peer as the tests address it: where, which protocol, how to count deliveries."""

    id: str
    server: AgentServer | PeerProcess
    protocol: str  # what the card leads the runner to
    suffix: str = ""  # a2a-sdk: "-v03" makes its card offer only 0.3
    cancels: bool = True  # kagent's Python runtimes answer -32603 "not implemented"

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def agent(self, behaviour: str) -> str:
        return f"{behaviour}{self.suffix}"

    def deliveries(self, agent: str) -> int:
        return len(self.server.received_by(agent))


@pytest.fixture(scope="module")
def sdk() -> Iterator[AgentServer]:
    with AgentServer() as server:
        yield server


@pytest.fixture(scope="module")
def kagent() -> Iterator[KagentRuntime]:
    with KagentRuntime() as runtime:
        yield runtime


@pytest.fixture(scope="module")
def kagent_adk() -> Iterator[KagentAdkRuntime]:
    with KagentAdkRuntime() as runtime:
        yield runtime


@pytest.fixture(scope="module")
def a2ago() -> Iterator[A2AGoServer]:
    with A2AGoServer() as server:
        yield server


PEER_IDS = ["a2a-sdk-1.0", "a2a-sdk-0.3", "kagent-langgraph-0.3", "a2a-go-v2-1.0"]
# kagent-adk plays the scenario table only: it takes half a minute to start, and what the other
# tests pin (resume, the delivery rule, identity) its 0.3 twin kagent-langgraph covers.
SCENARIO_PEER_IDS = [*PEER_IDS, "kagent-adk-0.3"]


@pytest.fixture(params=PEER_IDS)
def peer(request: pytest.FixtureRequest) -> Peer:
    if request.param == "a2a-sdk-1.0":
        return Peer(request.param, request.getfixturevalue("sdk"), "1.0")
    if request.param == "a2a-sdk-0.3":
        return Peer(request.param, request.getfixturevalue("sdk"), "0.3", suffix="-v03")
    if request.param == "kagent-langgraph-0.3":
        return Peer(request.param, request.getfixturevalue("kagent"), "0.3", cancels=False)
    if request.param == "kagent-adk-0.3":
        return Peer(request.param, request.getfixturevalue("kagent_adk"), "0.3", cancels=False)
    return Peer(request.param, request.getfixturevalue("a2ago"), "1.0")


_count = iter(range(1, 1_000_000))


def new_run(plane: ControlPlane, namespace: str, agent: str, **spec: Any) -> tuple[str, str, str]:
    """A ScheduledRun for `agent` and one Job of it: (ScheduledRun, Job, Job uid)."""
    name = f"run-{next(_count)}"
    create_scheduledrun(plane, namespace, name, agent, **spec)
    uid = create_job(plane, namespace, f"{name}-1", T0)
    return name, f"{name}-1", uid


def run_in_process(
    plane: ControlPlane,
    namespace: str,
    base_url: str,
    name: str,
    job: str,
    uid: str,
    **overrides: Any,
) -> tuple[int, dict[str, Any], str]:
    """Run once; (exit code, the run's history entry, the runner's log text)."""
    settings = Settings(
        namespace=namespace,
        name=name,
        job_name=job,
        job_uid=uid,
        a2a_base_url=base_url,
        request_timeout=overrides.pop("request_timeout", 5.0),
        dispatch_attempts=3,
        dispatch_backoff=(0.3, 2.0, 1.0),
        stream_idle=3.0,
        **overrides,
    )
    out = io.StringIO()
    kube = KubeClient(kubeconfig_credentials(plane.kubeconfig))
    try:
        code = Run(settings, kube, Log(out, job=job)).execute()
    finally:
        kube.close()
    [entry] = run_history(plane, namespace, name)
    return code, entry, out.getvalue()


# --- the scenario table ---------------------------------------------------------------------

# (behaviour, spec, status, the message starts with; "{peer-specific}" where peers differ)
SCENARIOS = [
    pytest.param("echo", {}, "Succeeded", f"echo: {PROMPT}", id="success"),
    pytest.param("fail", {}, "Failed", "task failed", id="failure"),
    pytest.param("slow-1500", {}, "Succeeded", "slow done", id="slow-by-stream"),
    pytest.param("slow-1500-nostream", {}, "Succeeded", "slow done", id="slow-by-poll"),
    pytest.param("hang", {"timeout": "3s"}, "Timeout", "no result within 3s; ", id="timeout"),
    pytest.param("message", {}, "Succeeded", "hello from a message", id="plain-message-reply"),
    pytest.param("big", {}, "Succeeded", "xxxxxxxx", id="1-MiB-answer"),
    pytest.param(
        "input",
        {},
        "Failed",
        "agent needs input (input-required), and a scheduled run has no one to ask",
        id="input-required",
    ),
]


# Every peer with every scenario it can play: kagent's runtimes always answer with a task, so
# they have no plain-message reply to test.
NO_PLAIN_MESSAGE = {"kagent-langgraph-0.3", "kagent-adk-0.3"}
PEER_SCENARIOS = [
    pytest.param(peer_id, *case.values, id=f"{peer_id}-{case.id}")
    for peer_id in SCENARIO_PEER_IDS
    for case in SCENARIOS
    if not (peer_id in NO_PLAIN_MESSAGE and case.values[0] == "message")
]


@pytest.mark.parametrize(
    ("peer", "behaviour", "spec", "status", "message"), PEER_SCENARIOS, indirect=["peer"]
)
def test_scenario(
    control_plane: ControlPlane,
    namespace: str,
    peer: Peer,
    behaviour: str,
    spec: dict[str, Any],
    status: str,
    message: str,
) -> None:
    agent = peer.agent(f"{behaviour}-{namespace}")
    name, job, uid = new_run(control_plane, namespace, agent, **spec)
    code, entry, log = run_in_process(control_plane, namespace, peer.base_url, name, job, uid)
    assert (entry["status"], code) == (status, lifecycle_code(status)), log
    assert entry["message"].startswith(message), entry["message"]
    assert peer.deliveries(agent) == 1
    if behaviour == "hang":
        cancel = "the task was cancelled" if peer.cancels else "the agent cannot cancel it"
        assert cancel in entry["message"], entry["message"]
    if behaviour.endswith("nostream"):
        assert '"streaming": false' in log
    if behaviour == "big":
        assert len(entry["message"]) <= api.MESSAGE_MAX_CHARS


@pytest.mark.parametrize("peer", ["kagent-adk-0.3"], indirect=True)
def test_kagent_adk_events_carrying_every_unicode_line_separator(
    control_plane: ControlPlane, namespace: str, peer: Peer
) -> None:
    """Its working updates carry the model's text, U+0085, U+2028 and U+2029 raw in the JSON:
    data, not line ends, in an event stream (issue 22)."""
    agent = f"lines-{namespace}"
    name, job, uid = new_run(control_plane, namespace, agent)
    code, entry, log = run_in_process(control_plane, namespace, peer.base_url, name, job, uid)
    assert (entry["status"], code) == ("Succeeded", api.EXIT_SUCCEEDED), log
    assert entry["message"] == "lines" + "".join(f"{c}line" for c in LINE_SEPARATORS)
    assert '"streaming": true' in log  # followed by its event stream


# Every character str.splitlines ends a line at besides CR and LF (devcluster/kagent_adk/serve.py).
LINE_SEPARATORS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def lifecycle_code(status: str) -> int:
    return api.EXIT_SUCCEEDED if status == "Succeeded" else api.EXIT_FINAL_FAILURE


def test_scenario_stream_cut_early(control_plane: ControlPlane, namespace: str, peer: Peer) -> None:
    agent = peer.agent(f"slow-1500-{namespace}")
    name, job, uid = new_run(control_plane, namespace, agent)
    with FaultProxy(peer.base_url, "cut-stream", methods=SUBSCRIBE_METHODS) as proxy:
        code, entry, log = run_in_process(control_plane, namespace, proxy.base_url, name, job, uid)
    assert len(proxy.faulted) == 1, proxy.requests  # the stream really was cut
    assert (entry["status"], entry["message"], code) == ("Succeeded", "slow done", 0), log
    assert peer.deliveries(agent) == 1


def test_scenario_server_down(control_plane: ControlPlane, namespace: str) -> None:
    name, job, uid = new_run(control_plane, namespace, "echo")
    closed = f"http://127.0.0.1:{closed_port()}"
    code, entry, _ = run_in_process(
        control_plane, namespace, closed, name, job, uid, a2a_protocol="1.0"
    )
    assert (entry["status"], code) == ("DispatchFailed", api.EXIT_FINAL_FAILURE)
    assert entry["message"].startswith("agent unreachable at http://127.0.0.1")
    assert entry["message"].endswith("(after 3 attempts; never delivered)")


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_runner_process(
    plane: ControlPlane, base_url: str, namespace: str, name: str, job: str, uid: str
) -> subprocess.Popen[str]:
    env = plane.env
    for key in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        env.pop(key, None)
    env |= {api.ENV_JOB_NAME: job, api.ENV_JOB_UID: uid, api.ENV_A2A_BASE_URL: base_url}
    return subprocess.Popen(
        [str(SCHEDULEDRUN), "run", "--namespace", namespace, "--name", name],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


@pytest.mark.parametrize("step", ["sent", "ids-recorded"])
def test_scenario_runner_killed_after_the_send_then_restarted(
    control_plane: ControlPlane, namespace: str, peer: Peer, step: str
) -> None:
    agent = peer.agent(f"slow-2000-{namespace}")
    name, job, uid = new_run(control_plane, namespace, agent)
    first = start_runner_process(control_plane, peer.base_url, namespace, name, job, uid)
    kill_at(first, step)
    [left] = run_history(control_plane, namespace, name)  # the kill may beat the id write
    second = start_runner_process(control_plane, peer.base_url, namespace, name, job, uid)
    code = second.wait(timeout=90)
    log = second.stderr.read() if second.stderr else ""
    [entry] = run_history(control_plane, namespace, name)
    assert peer.deliveries(agent) == 1, log
    if "taskID" not in left and peer.protocol == "0.3":
        # Killed before the task id was recorded, and 0.3 cannot look it up: said, not resent.
        assert (entry["status"], code) == ("DispatchFailed", api.EXIT_FINAL_FAILURE), log
        assert entry["message"].startswith("delivery uncertain after a restart: protocol 0.3")
    else:
        assert (entry["status"], entry["message"], code) == ("Succeeded", "slow done", 0), log


# --- exactly one delivery through a misbehaving proxy -----------------------------------------

FAULTS: list[Fault] = [
    "forward-then-502",
    "502-without-forward",
    "drop-after-forward",
    "timeout-after-forward",
]


@pytest.mark.parametrize("fault", FAULTS)
def test_delivery_through_a_misbehaving_proxy(
    control_plane: ControlPlane, namespace: str, peer: Peer, fault: Fault
) -> None:
    agent = peer.agent(f"echo-{namespace}")
    name, job, uid = new_run(control_plane, namespace, agent)
    with FaultProxy(peer.base_url, fault) as proxy:
        code, entry, log = run_in_process(
            control_plane, namespace, proxy.base_url, name, job, uid, request_timeout=3.0
        )
    assert len(proxy.faulted) == 1, proxy.requests
    sends = [r for r in proxy.requests if r.rpc_method in ("message/send", "SendMessage")]
    delivered = peer.deliveries(agent)
    assert delivered <= 1  # never twice, whatever happened
    if peer.protocol == "1.0":
        # The lookup (ListTasks with the runner's identity) settles it: the task is adopted, or
        # none is listed and the message is sent again. Exactly one delivery.
        assert delivered == 1, log
        assert (entry["status"], entry["message"], code) == ("Succeeded", f"echo: {PROMPT}", 0)
        assert len(sends) == (2 if fault == "502-without-forward" else 1)
    else:
        # 0.3 cannot look a task up: uncertain, recorded as such, never sent again.
        assert len(sends) == 1
        assert delivered == (0 if fault == "502-without-forward" else 1)
        assert (entry["status"], code) == ("DispatchFailed", api.EXIT_FINAL_FAILURE), log
        assert entry["message"].startswith("delivery uncertain after "), entry["message"]
        assert "protocol 0.3 has no call to look the task up" in entry["message"]


# --- identity ---------------------------------------------------------------------------------

TOKEN = "t0ken-" + "9f3c1a7e5b2d4068"


@pytest.fixture(scope="module")
def guarded() -> Iterator[A2AGoServer]:
    """a2a-go v2 with kagent's auth turned on: every request needs the bearer token."""
    with A2AGoServer(token=TOKEN) as server:
        yield server


@pytest.mark.parametrize("peer_id", ["kagent-langgraph-0.3", "a2a-go-v2-1.0"])
@pytest.mark.parametrize("user", [api.DEFAULT_A2A_USER_ID, "nightly-bot@example.com"])
def test_user_header_arrives_at_the_agent(
    control_plane: ControlPlane,
    namespace: str,
    request: pytest.FixtureRequest,
    peer_id: str,
    user: str,
) -> None:
    server: PeerProcess = request.getfixturevalue("kagent" if "kagent" in peer_id else "a2ago")
    agent = f"echo-{namespace}-{abs(hash(user)) % 1000}"
    name, job, uid = new_run(control_plane, namespace, agent)
    _, entry, _ = run_in_process(
        control_plane, namespace, server.base_url, name, job, uid, a2a_user_id=user
    )
    assert entry["status"] == "Succeeded"
    seen = server.requests_to(agent)
    assert seen
    assert {r["user"] for r in seen} == {user}
    if isinstance(server, A2AGoServer):
        assert [d.agent for d in server.received_by(agent)] == [agent]
        assert {r["user"] for r in server.log()["received"] if r["agent"] == agent} == {user}


def test_token_file_is_sent_and_never_logged_or_recorded(
    control_plane: ControlPlane, namespace: str, guarded: A2AGoServer, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    agent = f"echo-{namespace}"
    name, job, uid = new_run(control_plane, namespace, agent)
    code, entry, log = run_in_process(
        control_plane, namespace, guarded.base_url, name, job, uid, a2a_token_file=str(token_file)
    )
    assert (entry["status"], code) == ("Succeeded", 0), log
    assert {r["authorization"] for r in guarded.requests_to(agent)} == {f"Bearer {TOKEN}"}
    assert TOKEN not in log
    with control_plane.client() as client:
        path = f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{api.PLURAL}/{name}"
        assert TOKEN not in client.get(path).text


def test_without_the_token_the_refusal_is_recorded(
    control_plane: ControlPlane, namespace: str, guarded: A2AGoServer
) -> None:
    agent = f"echo-{namespace}-anonymous"
    name, job, uid = new_run(control_plane, namespace, agent)
    code, entry, _ = run_in_process(control_plane, namespace, guarded.base_url, name, job, uid)
    assert (entry["status"], code) == ("DispatchFailed", api.EXIT_FINAL_FAILURE)
    assert entry["message"].startswith("the agent refused the runner: HTTP 401")
    assert guarded.received_by(agent) == []


def test_redirect_to_another_origin_is_not_followed(
    control_plane: ControlPlane, namespace: str, guarded: A2AGoServer, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    agent = f"echo-{namespace}-redirected"
    name, job, uid = new_run(control_plane, namespace, agent)
    with (
        A2AGoServer() as elsewhere,
        FaultProxy(guarded.base_url, "redirect", redirect_to=elsewhere.base_url) as proxy,
    ):
        code, entry, log = run_in_process(
            control_plane,
            namespace,
            proxy.base_url,
            name,
            job,
            uid,
            a2a_token_file=str(token_file),
        )
        assert elsewhere.log()["requests"] == []  # nothing, and so no token, went there
    assert len(proxy.faulted) == 1
    assert "HTTP 307 redirect from the agent to http://127.0.0.1" in log
    assert "redirects are not followed" in log
    # The redirect left delivery uncertain; the lookup found no task, so it was sent again.
    assert (entry["status"], code) == ("Succeeded", 0), log
    assert len(guarded.received_by(agent)) == 1


# --- SIGTERM ------------------------------------------------------------------------------------


def wait_for_step(runner: subprocess.Popen[str], step: str, timeout: float = 60) -> None:
    assert runner.stderr is not None
    deadline = time.monotonic() + timeout
    for line in runner.stderr:
        if json.loads(line)["step"] == step:
            return
        assert time.monotonic() < deadline, f"no {step!r} within {timeout}s"
    raise AssertionError(f"the runner ended before {step!r}")


def stop_runner(runner: subprocess.Popen[str]) -> tuple[int, list[dict[str, Any]], float]:
    """SIGTERM as the kubelet sends it; (exit code, remaining log records, seconds to exit)."""
    began = time.monotonic()
    os.kill(runner.pid, signal.SIGTERM)
    code = runner.wait(timeout=api.TERMINATION_GRACE_SECONDS)
    took = time.monotonic() - began
    rest = runner.stderr.read() if runner.stderr else ""
    return code, [json.loads(line) for line in rest.splitlines()], took


def delete(plane: ControlPlane, path: str) -> None:
    with plane.client() as client:
        response = client.delete(path, params={"propagationPolicy": "Background"})
        assert response.status_code in (200, 202), response.text


SIGTERM_PEERS = ["a2a-sdk-1.0", "kagent-langgraph-0.3", "a2a-go-v2-1.0"]


@pytest.mark.parametrize("peer", SIGTERM_PEERS, indirect=True)
@pytest.mark.parametrize("cause", ["scheduledrun-deleted", "job-replaced", "job-deadline"])
def test_sigterm_cancels_the_task_and_records_why(
    control_plane: ControlPlane, namespace: str, peer: Peer, cause: str
) -> None:
    agent = peer.agent(f"hang-{namespace}")
    name = f"stopped-{next(_count)}"
    create_scheduledrun(control_plane, namespace, name, agent)
    job = f"{name}-1"
    uid = create_job(control_plane, namespace, job, T0)
    runner = start_runner_process(control_plane, peer.base_url, namespace, name, job, uid)
    wait_for_step(runner, "follow")
    jobs = f"/apis/batch/v1/namespaces/{namespace}/jobs/{job}"
    if cause == "scheduledrun-deleted":
        delete(
            control_plane,
            f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{api.PLURAL}/{name}",
        )
    elif cause == "job-replaced":
        delete(control_plane, jobs)  # what the CronJob controller does for Replace
    else:
        mark_deadline_exceeded(control_plane, jobs)
    code, log, took = stop_runner(runner)
    assert took < api.STOP_BUDGET_SECONDS, log
    assert code == api.EXIT_FINAL_FAILURE, log
    [cancel] = [r for r in log if r["step"] == "cancel"]
    if peer.cancels:
        assert cancel["state"] == "canceled", cancel
    else:
        assert "Cancellation is not implemented" in cancel["error"], cancel
    [stopped] = [r for r in log if r["step"] == "stopped"]
    if cause == "scheduledrun-deleted":
        assert stopped["cause"] == "the ScheduledRun was deleted"
        return  # nothing left to record in
    [entry] = run_history(control_plane, namespace, name)
    if cause == "job-deadline":
        assert entry["status"] == "Timeout", entry
        assert entry["message"].startswith("no result within 1m; stopped at the deadline; ")
    else:
        assert entry["status"] == "Failed", entry
        assert entry["message"].startswith("stopped: the run's Job was deleted"), entry
    if peer.cancels:
        assert entry["message"].endswith("the agent's task was cancelled"), entry
    else:
        assert "the agent could not cancel its task" in entry["message"], entry
        assert entry["message"].endswith("it may still be running"), entry


def mark_deadline_exceeded(plane: ControlPlane, job_path: str) -> None:
    """Give the Job a deadline already past, as `activeDeadlineSeconds` works: the Job
    controller then fails it with DeadlineExceeded (and would stop its pods)."""
    with plane.client() as client:
        patch = {"spec": {"suspend": False, "activeDeadlineSeconds": 1}}
        response = client.patch(
            job_path, json=patch, headers={"Content-Type": "application/merge-patch+json"}
        )
        assert response.status_code == 200, response.text

        def exceeded() -> bool:
            conditions = (client.get(job_path).json().get("status") or {}).get("conditions")
            return any(c.get("reason") == "DeadlineExceeded" for c in conditions or [])

        plane.wait_for("Job DeadlineExceeded", exceeded, timeout=30)


def test_the_session_at_kagents_runtime_is_the_creators(
    control_plane: ControlPlane, namespace: str, kagent: KagentRuntime
) -> None:
    """`kagent.dev/created-by` beats the configured user: kagent's runtime runs the session as
    the ScheduledRun's creator (what kagent's UI files it under)."""
    agent = f"echo-creator-{namespace}"
    name, job, uid = new_run(control_plane, namespace, agent)
    creator = "alice@example.com"
    control_plane.kubectl("-n", namespace, "annotate", "sr", name,
                          f"{api.ANNOTATION_CREATED_BY}={creator}")  # fmt: skip
    _, entry, _ = run_in_process(control_plane, namespace, kagent.base_url, name, job, uid)
    assert entry["status"] == "Succeeded"
    assert {r["user"] for r in kagent.requests_to(agent)} == {creator}
    assert [(d.context_id, d.user) for d in kagent.received_by(agent)] == [
        (entry["sessionID"], creator)
    ]
