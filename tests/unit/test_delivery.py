"""`spec.delivery` (runner/delivery.py, runner/webhook.py, their use in runner/run.py, the check
in generator/spec/validate.py and the pod's environment from generator/cronjob/render.py).

Pure rules as tables (when and onChange, the answer cut on a character boundary, what an answer
from a receiver means); the Slack format against Slack's documented block limits as a JSON
schema; then whole runs against the real a2a-sdk agents, the in-memory Kubernetes API and a real
HTTP receiver on loopback (devcluster/receiver.py): signed and verified, retried on 503 and not
on 400, never following a redirect, a receiver that is down, the record before and after so a
rerun does not deliver again. The same on the real control plane and node:
tests/integration/test_delivery_cluster.py and tests/e2e/test_delivery.py.
"""

from __future__ import annotations

import io
import json
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest

from devcluster.agents import AgentServer, running
from devcluster.receiver import Receiver, verify
from generator.cronjob.render import OperatorConfig, render_cronjob
from generator.spec.validate import validate_spec
from runner import delivery, history, lifecycle
from runner.kube import Credentials, KubeClient
from runner.run import Log, Run, Settings
from tests.unit.test_runner_run import JOB, NS, SR, UID, FakeApiServer, job, scheduledrun

KEY = b"s3cret-signing-key"


def destination(**fields: Any) -> delivery.Destination:
    return delivery.destinations({"delivery": [{"name": "ops", **fields}]})[0]


@pytest.mark.parametrize(
    ("fields", "status", "before", "sent"),
    [
        pytest.param({}, "Succeeded", None, True, id="default-all"),
        pytest.param({}, "DispatchFailed", "Succeeded", True, id="default-all-dispatch-failed"),
        pytest.param({"when": ["Failed"]}, "Failed", None, True, id="when-failed-fails"),
        pytest.param({"when": ["Failed"]}, "Succeeded", None, False, id="when-failed-passes"),
        pytest.param({"when": ["Failed", "Timeout"]}, "Timeout", None, True, id="when-timeout"),
        pytest.param({"onChange": True}, "Succeeded", None, False, id="onchange-first-pass-quiet"),
        pytest.param({"onChange": True}, "Failed", None, True, id="onchange-first-failure"),
        pytest.param({"onChange": True}, "Failed", "Succeeded", True, id="onchange-pass-fail"),
        pytest.param({"onChange": True}, "Failed", "Failed", False, id="onchange-fail-fail"),
        pytest.param({"onChange": True}, "Succeeded", "Failed", True, id="onchange-recovery"),
        pytest.param({"onChange": True}, "Timeout", "Failed", True, id="onchange-other-failure"),
        pytest.param({"onChange": True, "when": ["Succeeded"]}, "Failed", "Succeeded", False,
                     id="onchange-and-when"),
    ],
)  # fmt: skip
def test_when_and_on_change(
    fields: dict[str, Any], status: str, before: str | None, sent: bool
) -> None:
    assert (delivery.skip_reason(destination(**fields), status, before) is None) == sent


def test_on_change_across_pass_fail_pass_sends_two() -> None:
    target = destination(onChange=True)
    statuses = ["Succeeded", "Failed", "Succeeded"]
    befores = [None, *statuses[:-1]]
    pairs = zip(statuses, befores, strict=True)
    sent = [delivery.skip_reason(target, s, b) is None for s, b in pairs]
    assert sent == [False, True, True]


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        pytest.param("short", 100, False, id="whole"),
        pytest.param("é" * 200, 150, True, id="two-byte-characters"),
        pytest.param("日本語" * 100, 151, True, id="three-byte-characters"),
        pytest.param("🙂" * 100, 150, True, id="four-byte-characters"),
    ],
)  # fmt: skip
def test_answer_cut_on_a_character_boundary(text: str, limit: int, cut: bool) -> None:
    sent, was_cut, size = delivery.cut_answer(text, limit)
    assert was_cut == cut
    assert size == len(text.encode("utf-8"))
    assert len(sent.encode("utf-8")) <= limit
    if cut:
        head, note = sent.split("\n\n[answer cut", 1)
        assert text.startswith(head)
        assert f"at {limit} bytes of {size}" in note
    else:
        assert sent == text


@pytest.mark.parametrize(
    ("code", "verdict"),
    [(200, "delivered"), (204, "delivered"), (None, "retry"), (408, "retry"), (429, "retry"),
     (500, "retry"), (503, "retry"), (301, "stop"), (307, "stop"), (400, "stop"), (401, "stop"),
     (404, "stop"), (410, "stop")],
)  # fmt: skip
def test_what_an_answer_means(code: int | None, verdict: str) -> None:
    assert delivery.verdict(code) == verdict


def test_signature_is_what_the_readme_receiver_checks() -> None:
    report = delivery.Report(NS, SR, {"id": JOB, "status": "Succeeded"}, "the answer")
    payload = delivery.body(destination(), report)
    sent = delivery.headers(destination(), report, payload, KEY, 1_900_000_000)
    headers = {k.lower(): v for k, v in sent.items()}
    assert headers["idempotency-key"] == f"{NS}/{JOB}"
    assert headers["x-scheduledrun-signature"].startswith("sha256=")
    assert verify(payload, headers, KEY, tolerance=10**10)
    assert not verify(payload + b" ", headers, KEY, tolerance=10**10)
    assert not verify(payload, headers, b"another key", tolerance=10**10)
    assert not verify(payload, headers, KEY)  # a timestamp from 2030: too far from now


# Slack's documented shape of an incoming webhook message with blocks (docs.slack.dev:
# "Sending messages using incoming webhooks", Block Kit reference: header, section, context).
TEXT: dict[str, Any] = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"enum": ["plain_text", "mrkdwn"]}, "text": {"type": "string"}},
}
SLACK_MESSAGE = {
    "type": "object",
    "required": ["text", "blocks"],
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "blocks": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "oneOf": [
                    {
                        "required": ["type", "text"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"const": "header"},
                            "text": {
                                **TEXT,
                                "properties": {
                                    "type": {"const": "plain_text"},
                                    "text": {"type": "string", "minLength": 1, "maxLength": 150},
                                },
                            },
                        },
                    },
                    {
                        "required": ["type"],
                        "anyOf": [{"required": ["text"]}, {"required": ["fields"]}],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"const": "section"},
                            "text": {
                                **TEXT,
                                "properties": {
                                    **TEXT["properties"],
                                    "text": {"type": "string", "minLength": 1, "maxLength": 3000},
                                },
                            },
                            "fields": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 10,
                                "items": {
                                    **TEXT,
                                    "properties": {
                                        **TEXT["properties"],
                                        "text": {"type": "string", "maxLength": 2000},
                                    },
                                },
                            },
                        },
                    },
                    {
                        "required": ["type", "elements"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"const": "context"},
                            "elements": {"type": "array", "maxItems": 10, "items": TEXT},
                        },
                    },
                ]
            },
        },
    },
}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("All 3 nodes healthy. <b>bold</b> & more", id="short-with-markup"),
        pytest.param("x" * 500_000, id="huge-answer"),
        pytest.param("", id="no-answer"),
    ],
)
def test_slack_format_has_slacks_documented_shape(answer: str) -> None:
    entry = {
        "id": JOB,
        "trigger": "Scheduled",
        "scheduledTime": "2026-03-01T12:00:00Z",
        "startTime": "2026-03-01T12:00:01Z",
        "endTime": "2026-03-01T12:00:09Z",
        "status": "Failed",
        "message": "task failed: " + "y" * 1000,
    }
    report = delivery.Report(NS, "n" * 200, entry, answer, "https://kagent.example/s/1")
    payload = json.loads(delivery.body(destination(format="slack"), report))
    jsonschema_rs.validate(SLACK_MESSAGE, payload)
    texts = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section" and "text" in b]
    if answer.startswith("All"):
        assert texts == ["All 3 nodes healthy. &lt;b&gt;bold&lt;/b&gt; &amp; more"]
    assert (
        payload["blocks"][-1]["elements"][0]["text"]
        == "<https://kagent.example/s/1|Open the session>"
    )


def test_json_payload_carries_the_entry_and_the_whole_answer() -> None:
    entry = {"id": JOB, "trigger": "Manual", "status": "Succeeded", "message": "m", "other": 1}
    report = delivery.Report(NS, SR, entry, "the whole answer", None)
    assert delivery.json_payload(report) == {
        "type": "kagent.dev/scheduledrun.run",
        "version": 1,
        "idempotencyKey": f"{NS}/{JOB}",
        "scheduledRun": {"namespace": NS, "name": SR},
        "run": {"id": JOB, "trigger": "Manual", "status": "Succeeded", "message": "m"},
        "sessionLink": None,
        "answer": "the whole answer",
        "answerTruncated": False,
        "answerBytes": 16,
    }


HOOK = {"name": "ops", "url": {"secretKeyRef": {"name": "hooks", "key": "url"}}}


@pytest.mark.parametrize(
    ("items", "field", "said"),
    [
        pytest.param([{**HOOK, "format": "teams"}], "spec.delivery[0].format", "json, slack",
                     id="unknown-format"),
        pytest.param([HOOK, HOOK], "spec.delivery[1].name", "unique", id="duplicate-name"),
        pytest.param([{**HOOK, "name": "Ops_1"}], "spec.delivery[0].name", "DNS label",
                     id="bad-name"),
        pytest.param([{"name": "ops", "url": "https://x"}], "spec.delivery[0].url",
                     "secretKeyRef", id="url-in-the-spec"),
        pytest.param([{**HOOK, "when": ["Pending"]}], "spec.delivery[0].when", "Succeeded",
                     id="when-pending"),
        pytest.param([{**HOOK, "signingKey": {"secretKeyRef": {"name": "hooks"}}}],
                     "spec.delivery[0].signingKey", "secretKeyRef", id="key-without-key"),
        pytest.param([{**HOOK, "name": f"d{n}"} for n in range(6)], "spec.delivery",
                     "at most 5", id="too-many"),
    ],
)  # fmt: skip
def test_bad_delivery_is_an_admission_problem(
    items: list[dict[str, Any]], field: str, said: str
) -> None:
    spec = {"schedule": "@daily", "targetRef": {"kind": "Agent", "name": "a"}, "prompt": "p"}
    assert validate_spec({**spec, "delivery": [HOOK]}) == []
    problems = validate_spec({**spec, "delivery": items})
    assert [(p.reason, p.field) for p in problems][:1] == [("InvalidSpec", field)]
    assert said in problems[0].message


def test_the_pod_gets_url_and_key_from_the_secret_never_the_values() -> None:
    signed = {**HOOK, "name": "ops-hook", "signingKey": {"secretKeyRef": {"name": "k", "key": "h"}}}
    sr = scheduledrun("echo", delivery=[signed])
    sr["metadata"]["uid"] = "u"
    container = render_cronjob(sr, OperatorConfig())["spec"]["jobTemplate"]["spec"]["template"][
        "spec"
    ]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["SCHEDULEDRUN_DELIVERY_OPS_HOOK_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "hooks", "key": "url", "optional": True}
    }
    assert env["SCHEDULEDRUN_DELIVERY_OPS_HOOK_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "k", "key": "h", "optional": True}
    }


# --- whole runs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agents() -> Iterator[AgentServer]:
    with running() as server:
        yield server


def closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/hook"


def run(
    fake: FakeApiServer, agents: AgentServer, environ: dict[str, str], budget: float = 5.0
) -> tuple[int, list[dict[str, Any]]]:
    settings = Settings(
        namespace=NS,
        name=SR,
        job_name=JOB,
        job_uid=UID,
        a2a_base_url=agents.base_url,
        a2a_protocol="1.0",
        request_timeout=3.0,
        delivery_budget=budget,
        delivery_attempt_timeout=2.0,
        delivery_backoff=(0.05, 2.0, 0.2),
    )
    kube = KubeClient(
        Credentials("https://kube.test", ssl_context=ssl.create_default_context()),
        transport=httpx.MockTransport(fake.handle),
    )
    out = io.StringIO()
    code = Run(settings, kube, Log(out, job=JOB), environ=environ).execute()
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


SIGNED = {**HOOK, "signingKey": {"secretKeyRef": {"name": "hooks", "key": "key"}}}


def env_for(url: str, key: bytes | None = KEY, name: str = "ops") -> dict[str, str]:
    env = {delivery.env_name(name, "URL"): url}
    if key is not None:
        env[delivery.env_name(name, "KEY")] = key.decode()
    return env


def only(fake: FakeApiServer) -> dict[str, Any]:
    (item,) = fake.entry()["delivery"]
    return dict(item)


def test_delivered_signed_with_the_whole_answer(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("big-delivered", delivery=[SIGNED]), job())
    with Receiver(key=KEY) as receiver:
        code, _ = run(fake, agents, env_for(receiver.url))
    assert code == 0
    (got,) = receiver.received
    assert got.verified
    payload = got.payload
    assert payload["run"]["id"] == JOB
    assert payload["run"]["status"] == "Succeeded"
    # The big agent answers 1 MiB: sent up to 256 KiB, cut with a note; the history keeps 1024.
    assert payload["answerTruncated"] is True
    assert payload["answerBytes"] == 1024 * 1024
    assert len(got.body) < delivery.ANSWER_MAX_BYTES + 4096
    assert len(fake.entry()["message"]) == 1024
    assert only(fake) | {"time": "t"} == {
        "name": "ops", "result": "Delivered", "attempts": 1, "code": 200, "time": "t"
    }  # fmt: skip
    assert fake.obj["status"]["lastDelivery"] == f"{JOB}: ops Delivered"


def test_503_twice_then_200_is_three_attempts_delivered(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-retried", delivery=[SIGNED]), job())
    with Receiver(key=KEY, answers=[503, 503]) as receiver:
        code, _ = run(fake, agents, env_for(receiver.url))
    assert code == 0
    assert [r.answered for r in receiver.received] == [503, 503, 200]
    assert all(r.verified for r in receiver.received)
    assert {r.headers["idempotency-key"] for r in receiver.received} == {f"{NS}/{JOB}"}
    assert (only(fake)["result"], only(fake)["attempts"]) == ("Delivered", 3)


@pytest.mark.parametrize(
    ("answers", "code"),
    [pytest.param([400], 400, id="400-not-retried"), pytest.param([307], 307, id="redirect")],
)
def test_refused_once_is_failed_without_a_retry(
    agents: AgentServer, answers: list[int], code: int
) -> None:
    fake = FakeApiServer(scheduledrun(f"echo-refused-{code}", delivery=[SIGNED]), job())
    with Receiver(key=KEY, answers=answers) as receiver:
        exit_code, _ = run(fake, agents, env_for(receiver.url))
    assert exit_code == 0
    assert len(receiver.received) == 1
    item = only(fake)
    assert (item["result"], item["attempts"], item["code"]) == ("Failed", 1, code)
    assert fake.entry()["status"] == "Succeeded"
    assert fake.obj["status"]["lastDelivery"] == f"{JOB}: ops Failed (HTTP {code})"


def test_receiver_down_is_a_failed_delivery_and_the_run_keeps_its_status(
    agents: AgentServer,
) -> None:
    fake = FakeApiServer(scheduledrun("fail-nobody-listens", delivery=[SIGNED]), job())
    code, _ = run(fake, agents, env_for(closed_url()), budget=1.0)
    assert code == 3  # the agent failed: the same exit code as without delivery
    assert fake.entry()["status"] == "Failed"
    item = only(fake)
    assert item["result"] == "Failed"
    assert item["attempts"] >= 2
    assert "ConnectError" in item["error"]
    assert "budget of 1s spent" in item["error"]
    assert "code" not in item


def test_when_failed_skips_a_passing_run_and_sends_a_failing_one(agents: AgentServer) -> None:
    only_failures = [{**SIGNED, "when": ["Failed"]}]
    with Receiver(key=KEY) as receiver:
        passing = FakeApiServer(scheduledrun("echo-when", delivery=only_failures), job())
        run(passing, agents, env_for(receiver.url))
        failing = FakeApiServer(scheduledrun("fail-when", delivery=only_failures), job())
        run(failing, agents, env_for(receiver.url))
    assert [r.payload["run"]["status"] for r in receiver.received] == ["Failed"]
    assert only(passing)["result"] == "Skipped"
    assert "not in when (Failed)" in only(passing)["reason"]
    assert only(failing)["result"] == "Delivered"


def test_missing_secret_fails_the_delivery_not_the_run(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-no-secret", delivery=[SIGNED]), job())
    code, _ = run(fake, agents, {})
    assert code == 0
    assert fake.entry()["status"] == "Succeeded"
    assert (only(fake)["result"], only(fake)["attempts"]) == ("Failed", 0)
    assert "SCHEDULEDRUN_DELIVERY_OPS_URL" in only(fake)["error"]
    # A signing key named but missing: never sent unsigned.
    unsigned = FakeApiServer(scheduledrun("echo-no-key", delivery=[SIGNED]), job())
    with Receiver(key=KEY) as receiver:
        run(unsigned, agents, env_for(receiver.url, key=None))
    assert receiver.received == []
    assert "not sent unsigned" in only(unsigned)["error"]


def test_a_rerun_after_delivering_does_not_deliver_again(agents: AgentServer) -> None:
    fake = FakeApiServer(scheduledrun("echo-rerun", delivery=[SIGNED]), job())
    with Receiver(key=KEY) as receiver:
        run(fake, agents, env_for(receiver.url))
        code, log = run(fake, agents, env_for(receiver.url))  # the Job's pod started again
    assert code == 0
    assert len(receiver.received) == 1
    assert len(agents.received_by("echo-rerun")) == 1
    assert "delivery-resumed" not in [line["step"] for line in log]


def test_a_rerun_after_a_stop_mid_delivery_delivers_with_the_same_key(
    agents: AgentServer,
) -> None:
    """Recorded Sending, never recorded as sent: the runner died in between. The rerun sends it
    again (the receiver may have it twice; the idempotency key tells it so)."""
    fake = FakeApiServer(scheduledrun("echo-mid", delivery=[SIGNED], maxRunHistory=20), job())
    entry = history.finished(
        history.new_pending(JOB, "Scheduled", None, history.parse_time("2026-03-01T12:00:00Z")),  # type: ignore[arg-type]
        "Succeeded",
        "echo: the answer",
        history.parse_time("2026-03-01T12:00:05Z"),  # type: ignore[arg-type]
    )
    older = [
        {"id": f"older-{n:02d}", "status": "Succeeded", "startTime": f"2026-03-01T11:{n:02d}:00Z"}
        for n in range(14)
    ]
    sending = [delivery.item("ops", "Sending"), delivery.item("removed", "Sending")]
    fake.obj["status"] = {"runHistory": [{**entry, "delivery": sending}, *older]}
    with Receiver(key=KEY) as receiver:
        code, _ = run(fake, agents, env_for(receiver.url))
    assert code == 0
    (got,) = receiver.received
    assert got.headers["idempotency-key"] == f"{NS}/{JOB}"
    assert got.payload["answer"] == "echo: the answer"
    results = {d["name"]: d["result"] for d in fake.entry()["delivery"]}
    assert results == {"ops": "Delivered", "removed": "Failed"}  # gone from the spec: not sent
    assert agents.received_by("echo-mid") == []  # the run itself is not sent again
    assert len(fake.history) == 15  # maxRunHistory 20: recording the result trimmed nothing


@pytest.mark.parametrize(
    ("job", "cap", "budget"),
    [
        pytest.param({}, None, 30.0, id="no-deadline-known"),
        pytest.param({"spec": {"activeDeadlineSeconds": 120},
                      "status": {"startTime": "2026-03-01T12:00:00Z"}}, None, 30.0,
                     id="far-from-the-deadline"),
        pytest.param({"spec": {"activeDeadlineSeconds": 120},
                      "status": {"startTime": "2026-03-01T11:58:12Z"}}, None, 7.0,
                     id="12s-before-the-deadline"),
        pytest.param({"spec": {"activeDeadlineSeconds": 60},
                      "status": {"startTime": "2026-03-01T11:50:00Z"}}, None, 1.0,
                     id="past-the-deadline-one-attempt"),
        pytest.param({}, 4.0, 4.0, id="after-sigterm"),
    ],
)  # fmt: skip
def test_delivery_budget_fits_the_jobs_deadline(
    job: dict[str, Any], cap: float | None, budget: float
) -> None:
    now = history.parse_time("2026-03-01T12:00:00Z")
    assert now is not None
    assert lifecycle.delivery_budget(30.0, lifecycle.job_time_left(job, now), cap) == budget
