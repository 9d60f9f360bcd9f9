"""runner.run.Run: the whole run against the real a2a-sdk agents (devcluster/agents.py) and an
in-memory Kubernetes API behind runner.kube's httpx client (merge patches, resourceVersion and
409 Conflict, as the apiserver does them).

Covers every outcome in both protocols, resume after a restart, timeout from the entry's start,
trimming and write conflicts. The same run against the real apiserver, as a process that gets
SIGKILLed, is in tests/integration/test_runner_cluster.py.
"""

from __future__ import annotations

import copy
import io
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devcluster.agents import AgentServer, behaviour_of, running
from runner import api, history, lifecycle
from runner.a2a import A2AClient
from runner.kube import Credentials, KubeClient
from runner.run import Log, Run, Settings
from tests import builders

NS, SR, JOB, UID = "team", "nightly", "nightly-29000000", "3f1f8a62-0000-4000-8000-000000000001"
MESSAGE_ID, CONTEXT_ID = lifecycle.derive_ids(UID)


class FakeApiServer:
    """The three endpoints the runner uses, with the apiserver's concurrency rules."""

    def __init__(self, scheduledrun: dict[str, Any], job: dict[str, Any] | None) -> None:
        self.obj = scheduledrun
        self.obj["metadata"]["resourceVersion"] = "1"
        self.job = job
        self.lock = threading.Lock()
        self.conflicts = 0
        self.patches = 0
        self.before_patch: list[dict[str, Any]] = []  # statuses "another writer" lands first

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self.lock:
            if path.endswith(f"/jobs/{JOB}"):
                if self.job is None:
                    return httpx.Response(404, json={"message": "jobs not found"})
                return httpx.Response(200, json=self.job)
            if request.method == "GET" and path.endswith(f"/scheduledruns/{SR}"):
                return httpx.Response(200, json=copy.deepcopy(self.obj))
            if request.method == "PATCH" and path.endswith(f"/scheduledruns/{SR}/status"):
                assert request.headers["content-type"] == "application/merge-patch+json"
                if self.before_patch:
                    self._store(self.before_patch.pop(0))
                patch = json.loads(request.content)
                if patch["metadata"]["resourceVersion"] != self.obj["metadata"]["resourceVersion"]:
                    self.conflicts += 1
                    return httpx.Response(409, json={"message": "the object has been modified"})
                self.patches += 1
                self._store(patch["status"])
                return httpx.Response(200, json=copy.deepcopy(self.obj))
        return httpx.Response(404, json={"message": f"no route {path}"})

    def _store(self, changes: dict[str, Any]) -> None:
        status = self.obj.setdefault("status", {})
        for key, value in changes.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        rv = int(self.obj["metadata"]["resourceVersion"]) + 1
        self.obj["metadata"]["resourceVersion"] = str(rv)

    @property
    def history(self) -> list[dict[str, Any]]:
        return list((self.obj.get("status") or {}).get("runHistory") or [])

    def entry(self) -> dict[str, Any]:
        found = history.find(self.history, JOB)
        assert found is not None, self.history
        return found


def scheduledrun(agent: str, kind: str = "Agent", **spec: Any) -> dict[str, Any]:
    return builders.scheduledrun(
        SR,
        NS,
        target=agent,
        kind=kind,
        api_group="kagent.dev",
        **{"schedule": "@hourly", "prompt": "write the nightly report", "timeout": "10s", **spec},
    )


def job(annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {
            "name": JOB,
            "uid": UID,
            "annotations": annotations or {api.ANNOTATION_SCHEDULED_TIME: "2026-03-01T12:00:00Z"},
        }
    }


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(
    fake: FakeApiServer, base_url: str, protocol: str = "auto", **overrides: Any
) -> tuple[int, list[dict[str, Any]]]:
    settings = Settings(
        namespace=NS,
        name=SR,
        job_name=JOB,
        job_uid=overrides.pop("job_uid", UID),
        a2a_base_url=base_url,
        a2a_protocol=protocol,
        request_timeout=overrides.pop("request_timeout", 3.0),
        a2a_user_id=overrides.pop("a2a_user_id", api.DEFAULT_A2A_USER_ID),
        a2a_token_file=overrides.pop("a2a_token_file", None),
        dispatch_attempts=3,
        dispatch_backoff=(0.05, 2.0, 0.2),
        stream_idle=1.0,
    )
    kube = KubeClient(
        Credentials("https://kube.test", ssl_context=ssl.create_default_context()),
        transport=httpx.MockTransport(fake.handle),
    )
    out = io.StringIO()
    code = Run(settings, kube, Log(out, job=JOB), **overrides).execute()
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


PROTOCOLS = [pytest.param("0.3", id="v0.3"), pytest.param("1.0", id="v1.0")]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("agent", "spec", "status", "message", "code"),
    [
        pytest.param("echo", {}, "Succeeded", "echo: write the nightly report", 0, id="success"),
        pytest.param(
            "echo-nostream",
            {},
            "Succeeded",
            "echo: write the nightly report",
            0,
            id="success-polling",
        ),
        pytest.param(
            "fail", {}, "Failed", "task failed: agent failed: tool exploded", 3, id="agent-failure"
        ),
        pytest.param(
            "reject", {}, "Failed", "task rejected: agent rejected: not allowed", 3, id="rejection"
        ),
        pytest.param(
            "input",
            {},
            "Failed",
            "agent needs input (input-required), and a scheduled run has no one to ask: need",
            3,
            id="input-required",
        ),
        pytest.param(
            "message", {}, "Succeeded", "hello from a message", 0, id="plain-message-reply"
        ),
        pytest.param(
            "hang",
            {"timeout": "2s"},
            "Timeout",
            "no result within 2s; the task was cancelled",
            3,
            id="timeout-cancels",
        ),
        pytest.param(
            "hang-nostream",
            {"timeout": "2s"},
            "Timeout",
            "no result within 2s; the task was cancelled",
            3,
            id="timeout-cancels-polling",
        ),
        pytest.param(
            "http500",
            {},
            "DispatchFailed",
            "delivery uncertain after HTTP 500 from the agent: upstream exploded",
            3,
            id="http-500",
        ),
        pytest.param(
            "rpcerror",
            {},
            "DispatchFailed",
            "JSON-RPC error -32603: agent backend unavailable",
            3,
            id="json-rpc-error",
        ),
        pytest.param(
            "badjson",
            {},
            "DispatchFailed",
            "the agent answered HTTP 200 with a body that is not JSON (text/html",
            3,
            id="non-json",
        ),
        pytest.param(
            "silent",
            {},
            "DispatchFailed",
            "delivery uncertain after no answer from the agent within 3s",
            3,
            id="never-answers",
        ),
    ],
)
def test_outcome_recorded(
    agents: AgentServer,
    protocol: str,
    agent: str,
    spec: dict[str, Any],
    status: str,
    message: str,
    code: int,
) -> None:
    name = f"{agent}-{protocol}"
    fake = FakeApiServer(scheduledrun(name, **spec), job())
    got, _ = run(fake, agents.base_url, protocol)
    entry = fake.entry()
    assert (entry["status"], got) == (status, code)
    assert entry["message"].startswith(message), entry["message"]
    assert fake.obj["status"]["lastRunStatus"] == status
    # exactly once to a working agent, even after retries; never to one that cannot take it
    broken = behaviour_of(agent) in ("http500", "rpcerror", "badjson", "silent")
    assert len(agents.received_by(name)) == (0 if broken else 1)


@pytest.mark.parametrize("protocol", [*PROTOCOLS, pytest.param("auto", id="auto")])
def test_success_records_ids_times_and_sends_once(agents: AgentServer, protocol: str) -> None:
    name = f"echo-ids-{protocol}"
    fake = FakeApiServer(scheduledrun(name), job())
    code, log = run(fake, agents.base_url, protocol)
    entry = fake.entry()
    assert code == api.EXIT_SUCCEEDED
    assert entry["sessionID"] == CONTEXT_ID
    assert entry["taskID"]
    assert (entry["trigger"], entry["scheduledTime"]) == ("Scheduled", "2026-03-01T12:00:00Z")
    assert entry["startTime"] <= entry["endTime"]
    received = agents.received_by(name)
    assert [(r.message_id, r.context_id, r.text) for r in received] == [
        (MESSAGE_ID, CONTEXT_ID, "write the nightly report")
    ]
    steps = [line["step"] for line in log]
    assert steps.index("pending-written") < steps.index("sent") < steps.index("ids-recorded")
    assert steps[-1] == "finished"


def test_auto_protocol_follows_the_card(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-auto-v03"), job())
    _, log = run(fake, agents.base_url, "auto")
    assert [line["protocol"] for line in log if line["step"] == "sent"] == ["0.3"]


def test_sandbox_agent_path(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-sandbox", kind="SandboxAgent"), job())
    assert run(fake, agents.base_url)[0] == api.EXIT_SUCCEEDED
    assert [r.path for r in agents.received_by("echo-sandbox")] == [
        "/api/a2a-sandboxes/team/echo-sandbox/"
    ]


@pytest.mark.parametrize(
    ("protocol", "failing_step"),
    [
        pytest.param("1.0", "send-failed", id="fixed-protocol-retries-the-send"),
        pytest.param("auto", "card-failed", id="auto-retries-the-card"),
    ],
)
def test_unreachable_agent_is_retried_then_dispatch_failed(
    protocol: str, failing_step: str
) -> None:
    fake = FakeApiServer(scheduledrun("echo"), job())
    code, log = run(fake, f"http://127.0.0.1:{closed_port()}", protocol)
    assert code == api.EXIT_FINAL_FAILURE
    assert fake.entry()["status"] == "DispatchFailed"
    assert fake.entry()["message"].startswith("agent unreachable at http://127.0.0.1")
    assert "(after 3 attempts" in fake.entry()["message"]
    assert len([line for line in log if line["step"] == failing_step]) == 3


def test_manual_job_is_recorded_as_manual(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-manual"), job({api.ANNOTATION_INSTANTIATE: "manual"}))
    run(fake, agents.base_url)
    assert fake.entry()["trigger"] == "Manual"
    assert "scheduledTime" not in fake.entry()


def with_entry(fake: FakeApiServer, **fields: Any) -> None:
    start = fields.pop("start", datetime.now(UTC))
    entry = history.new_pending(JOB, "Scheduled", None, start) | fields
    fake.obj["status"] = {"runHistory": [entry]}


@pytest.mark.parametrize(
    ("status", "code"),
    [pytest.param("Succeeded", 0, id="succeeded"), pytest.param("Timeout", 3, id="timeout")],
)
def test_terminal_entry_exits_without_dispatching(
    agents: AgentServer, status: str, code: int
) -> None:
    fake = FakeApiServer(scheduledrun("echo-done"), job())
    with_entry(fake, status=status, message="earlier")
    assert run(fake, agents.base_url)[0] == code
    assert agents.received_by("echo-done") == []
    assert fake.patches == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_pending_with_task_is_followed_not_resent(agents: AgentServer, protocol: str) -> None:
    name = f"slow-400-follow-{protocol}"
    with httpx.Client() as http:
        task = A2AClient(http, agents.url(NS, name), protocol).send("x", MESSAGE_ID, CONTEXT_ID, 5)  # type: ignore[arg-type]
    fake = FakeApiServer(scheduledrun(name), job())
    with_entry(fake, taskID=task.task_id, sessionID=CONTEXT_ID)
    assert run(fake, agents.base_url, protocol)[0] == api.EXIT_SUCCEEDED
    assert fake.entry()["status"] == "Succeeded"
    assert len(agents.received_by(name)) == 1


def test_pending_without_task_adopts_the_task_of_its_context_in_1_0(agents: AgentServer) -> None:
    name = "slow-300-adopt"
    with httpx.Client() as http:
        task = A2AClient(http, agents.url(NS, name), "1.0").send("x", MESSAGE_ID, CONTEXT_ID, 5)
    fake = FakeApiServer(scheduledrun(name), job())
    with_entry(fake)
    assert run(fake, agents.base_url, "1.0")[0] == api.EXIT_SUCCEEDED
    assert fake.entry()["taskID"] == task.task_id
    assert len(agents.received_by(name)) == 1


@pytest.mark.parametrize(
    ("protocol", "user", "why"),
    [
        pytest.param(
            "1.0",
            "",
            "the lookup would carry no identity, and kagent lists only the caller's tasks",
            id="v1.0-no-identity",
        ),
        pytest.param(
            "0.3", "someone", "protocol 0.3 has no call to look the task up", id="v0.3-cannot-look"
        ),
    ],
)
def test_pending_without_task_is_not_sent_when_the_lookup_cannot_tell(
    agents: AgentServer, protocol: str, user: str, why: str
) -> None:
    name = f"echo-uncertain-{protocol}"
    fake = FakeApiServer(scheduledrun(name), job())
    with_entry(fake)
    assert run(fake, agents.base_url, protocol, a2a_user_id=user)[0] == api.EXIT_FINAL_FAILURE
    assert fake.entry()["status"] == "DispatchFailed"
    assert fake.entry()["message"] == (
        f"delivery uncertain after a restart: {why}; not sent again, so the agent may or may not"
        " be working on it"
    )
    assert agents.received_by(name) == []


def test_pending_without_task_is_sent_once_when_an_authenticated_lookup_finds_none(
    agents: AgentServer,
) -> None:
    name = "echo-none-listed"
    fake = FakeApiServer(scheduledrun(name), job())
    with_entry(fake)
    assert run(fake, agents.base_url, "1.0")[0] == api.EXIT_SUCCEEDED
    assert len(agents.received_by(name)) == 1


def test_timeout_counts_from_the_entry_start(agents: AgentServer) -> None:
    name = "hang-restarted"
    with httpx.Client() as http:
        task = A2AClient(http, agents.url(NS, name), "1.0").send("x", MESSAGE_ID, CONTEXT_ID, 5)
    fake = FakeApiServer(scheduledrun(name, timeout="15m"), job())
    with_entry(fake, taskID=task.task_id, start=datetime.now(UTC) - timedelta(minutes=20))
    assert run(fake, agents.base_url, "1.0")[0] == api.EXIT_FINAL_FAILURE
    assert fake.entry()["message"] == "no result within 15m; the task was cancelled"
    assert task.task_id in agents.finished


def test_invalid_spec_is_recorded_not_sent(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-badspec", timeout="soon"), job())
    assert run(fake, agents.base_url)[0] == api.EXIT_FINAL_FAILURE
    assert fake.entry()["status"] == "DispatchFailed"
    assert fake.entry()["message"].startswith("invalid spec: duration 'soon'")
    assert agents.received_by("echo-badspec") == []


def test_a_run_older_than_the_kept_history_is_sent_and_recorded(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-old", maxRunHistory=2), job())
    newer = [
        {"id": f"later-{n}", "scheduledTime": f"2026-03-01T1{n}:00:00Z", "status": "Succeeded"}
        for n in (3, 4)
    ]
    fake.obj["status"] = {"runHistory": newer}
    assert run(fake, agents.base_url)[0] == api.EXIT_SUCCEEDED
    assert len(agents.received_by("echo-old")) == 1
    assert [(e["id"], e["status"]) for e in fake.history] == [
        ("later-4", "Succeeded"),
        (JOB, "Succeeded"),
    ]


def test_write_conflicts_are_retried_and_lose_nothing(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-conflict"), job())
    other = {"id": "other-job", "scheduledTime": "2026-03-01T11:00:00Z", "status": "Pending"}
    fake.before_patch = [{"runHistory": [other]}, {"cronJobName": "nightly"}]
    assert run(fake, agents.base_url)[0] == api.EXIT_SUCCEEDED
    assert fake.conflicts == 2
    assert [e["id"] for e in fake.history] == [JOB, "other-job"]
    assert fake.obj["status"]["cronJobName"] == "nightly"


def test_job_uid_falls_back_to_the_job_object(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-uid"), job())
    assert run(fake, agents.base_url, job_uid=None)[0] == api.EXIT_SUCCEEDED
    assert [r.message_id for r in agents.received_by("echo-uid")] == [MESSAGE_ID]


def clock(*readings: float) -> Any:
    """A monotonic clock that reads `readings`, one per call, and fails on any further call."""
    it = iter(readings)
    return lambda: next(it)


@pytest.mark.parametrize(
    ("agent", "status"),
    [
        pytest.param("echo-measured", "Succeeded", id="agent-took-it"),
        pytest.param("rpcerror-measured", "DispatchFailed", id="agent-refused-it"),
    ],
)
def test_the_send_is_measured_into_the_entry(agents: AgentServer, agent: str, status: str) -> None:
    fake = FakeApiServer(scheduledrun(agent), job())
    run(fake, agents.base_url, "1.0", monotonic=clock(100.0, 101.2345))
    assert (fake.entry()["status"], fake.entry()["dispatchSeconds"]) == (status, 1.234)


def test_the_send_duration_is_written_with_the_ids(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("gate-measured"), job())
    done = threading.Thread(target=run, args=(fake, agents.base_url, "1.0"), daemon=True)
    done.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while "taskID" not in (history.find(fake.history, JOB) or {}) and (
            datetime.now(UTC) < deadline
        ):
            threading.Event().wait(0.05)
        pending = fake.entry()
        assert pending["status"] == "Pending"
        assert 0 <= pending["dispatchSeconds"] < 20
    finally:
        agents.release("gate-measured")
        done.join(20)
    assert fake.entry()["dispatchSeconds"] == pending["dispatchSeconds"]


def test_nothing_is_measured_when_nothing_was_sent() -> None:
    fake = FakeApiServer(scheduledrun("echo"), job())
    run(fake, f"http://127.0.0.1:{closed_port()}", "auto", monotonic=clock())
    assert fake.entry()["status"] == "DispatchFailed"
    assert "dispatchSeconds" not in fake.entry()
