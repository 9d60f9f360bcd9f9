"""The REST API (`scheduledrun serve --auth-mode client`) on the real control plane, with the real
operator, as users made of ServiceAccounts, Roles and TokenRequest tokens.

Covers every route's happy path and its errors, the cluster's RBAC passed on (a get-only user
cannot write or trigger, a namespace user sees nothing of another namespace), 401 without a
token, 413 over 1 MiB, stale writes (409), idempotent triggers (one Job per key, also under
concurrent retries), the trigger rules shared with `scheduledrun trigger`, and that the API and
kubectl agree. Not here: the property-based run from the OpenAPI document
(test_server_openapi.py) and local auth mode (test_server_local.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devcluster.accounts import namespace_user
from devcluster.cluster import ControlPlane
from devcluster.operator import OperatorProcess
from devcluster.server import ServerProcess
from runner import api
from tests import builders

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

WAIT = 60.0
SR = f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{{ns}}/{api.PLURAL}"
AGENTS = f"/apis/{api.TARGET_GROUP}/{api.TARGET_VERSION}/namespaces/{{ns}}/{{plural}}"

JSON = {"Content-Type": "application/json"}
READ = ["get", "list", "watch"]
EDITOR_RULES = [
    {"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": [*READ, "create", "update",
                                                                     "patch", "delete"]},
    {"apiGroups": [api.TARGET_GROUP], "resources": ["agents", "sandboxagents"], "verbs": READ},
    {"apiGroups": ["batch"], "resources": ["cronjobs"], "verbs": READ},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": [*READ, "create", "delete"]},
]  # fmt: skip
READER_RULES = [
    {"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": READ},
    {"apiGroups": [api.TARGET_GROUP], "resources": ["agents", "sandboxagents"], "verbs": READ},
    {"apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": READ},
]


@pytest.fixture(scope="module")
def operator(control_plane: ControlPlane) -> Iterator[OperatorProcess]:
    process = OperatorProcess(control_plane).start()
    yield process
    process.stop()
    process.log.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def server(control_plane: ControlPlane) -> Iterator[ServerProcess]:
    process = ServerProcess(control_plane).start()
    yield process
    process.stop()
    process.log.unlink(missing_ok=True)


class User:
    """An HTTP client of the REST API carrying one user's bearer token."""

    def __init__(self, server: ServerProcess, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=f"{server.url}/api", headers=headers, timeout=30)

    def __getattr__(self, method: str) -> Callable[..., httpx.Response]:
        return getattr(self.http, method)  # type: ignore[no-any-return]


def make_user(
    plane: ControlPlane, server: ServerProcess, namespace: str, rules: list[dict[str, Any]]
) -> User:
    token = namespace_user(plane, namespace, f"u-{uuid.uuid4().hex[:6]}", rules)
    user = User(server, token)
    # RBAC reaches the apiserver's authorizer through an informer: wait until it applies.
    plane.wait_for(
        "the user's Role to apply",
        lambda: user.get("/scheduledruns", params={"namespace": namespace}).status_code == 200,
        timeout=WAIT,
    )
    return user


@pytest.fixture
def editor(control_plane: ControlPlane, server: ServerProcess, namespace: str) -> User:
    return make_user(control_plane, server, namespace, EDITOR_RULES)


@pytest.fixture
def reader(control_plane: ControlPlane, server: ServerProcess, namespace: str) -> User:
    return make_user(control_plane, server, namespace, READER_RULES)


def scheduledrun(namespace: str, name: str = "nightly", **spec: Any) -> dict[str, Any]:
    return builders.scheduledrun(
        name,
        namespace,
        target="helper",
        **{
            "schedule": "0 9 * * *",
            "timeZone": "Europe/Berlin",
            "prompt": "Summarise yesterday's alerts.",
            **spec,
        },
    )


def create_agent(plane: ControlPlane, namespace: str, name: str, kind: str = "Agent") -> None:
    plural = api.TARGET_KINDS[kind].plural
    body = {
        "apiVersion": f"{api.TARGET_GROUP}/{api.TARGET_VERSION}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"description": f"the {name} agent"},
    }
    with plane.client() as client:
        path = AGENTS.format(ns=namespace, plural=plural)
        client.post(path, json=body).raise_for_status()


def kubectl_json(plane: ControlPlane, *args: str) -> Any:
    return json.loads(plane.kubectl(*args, "-o", "json").stdout)


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    # kagent's envelope: `error` is false on success, the readable message on a failure.
    assert body["error"] == (body["message"] if status >= 400 else False)
    assert body["error"] or status < 400
    return body["data"]


def accepted(user: User, namespace: str, name: str, plane: ControlPlane) -> dict[str, Any]:
    """The ScheduledRun once the operator has accepted it and made its CronJob."""
    found: dict[str, Any] = {}

    def check() -> bool:
        obj = data(user.get(f"/scheduledruns/{namespace}/{name}"))
        status = obj.get("status") or {}
        conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
        found.update(obj)
        return conditions.get("Accepted") == "True" and bool(status.get("cronJobName"))

    plane.wait_for(f"ScheduledRun {name} Accepted", check, timeout=WAIT)
    return found


# ---- create, read, update, delete ---------------------------------------------------------


def test_crud_round_trip_with_etags(editor: User, namespace: str) -> None:
    created = editor.post("/scheduledruns", json=scheduledrun(namespace))
    obj = data(created, 201)
    assert created.headers["etag"] == f'"{obj["metadata"]["resourceVersion"]}"'
    assert obj["spec"]["concurrencyPolicy"] == "Forbid"  # the CRD's default, from the apiserver

    got = editor.get(f"/scheduledruns/{namespace}/nightly")
    assert data(got)["metadata"]["uid"] == obj["metadata"]["uid"]
    listed = data(editor.get("/scheduledruns", params={"namespace": namespace}))
    assert [o["metadata"]["name"] for o in listed] == ["nightly"]

    changed = scheduledrun(namespace, prompt="Summarise last week.")
    updated = editor.put(
        f"/scheduledruns/{namespace}/nightly",
        json=changed,
        headers={"If-Match": got.headers["etag"]},
    )
    assert data(updated)["spec"]["prompt"] == "Summarise last week."

    deleted = editor.delete(
        f"/scheduledruns/{namespace}/nightly", headers={"If-Match": updated.headers["etag"]}
    )
    assert data(deleted) == {}
    assert data(editor.get(f"/scheduledruns/{namespace}/nightly"), 404)["reason"] == "NotFound"


def test_stale_writes_get_409_and_change_nothing(editor: User, namespace: str) -> None:
    first = editor.post("/scheduledruns", json=scheduledrun(namespace))
    stale = first.headers["etag"]
    path = f"/scheduledruns/{namespace}/nightly"
    fresh = editor.put(
        path, json=scheduledrun(namespace, prompt="second"), headers={"If-Match": stale}
    )
    data(fresh)

    again = editor.put(
        path, json=scheduledrun(namespace, prompt="third"), headers={"If-Match": stale}
    )
    assert data(again, 409)["reason"] == "Conflict"
    body_version = scheduledrun(namespace, prompt="third")
    body_version["metadata"]["resourceVersion"] = stale.strip('"')
    assert editor.put(path, json=body_version).status_code == 409
    assert data(editor.delete(path, headers={"If-Match": stale}), 409)["reason"] == "Conflict"
    assert data(editor.post(f"{path}/suspend", headers={"If-Match": stale}), 409)
    assert data(editor.get(path))["spec"]["prompt"] == "second"


def test_create_errors(editor: User, namespace: str) -> None:
    bad = scheduledrun(namespace, schedule="0 25 * * *", timeZone="Mars/Olympus")
    problems = data(editor.post("/scheduledruns", json=bad), 400)["problems"]
    assert {(p["field"], p["reason"]) for p in problems} == {
        ("spec.schedule", "InvalidSchedule"),
        ("spec.timeZone", "InvalidTimeZone"),
    }
    data(editor.post("/scheduledruns", json=scheduledrun(namespace)), 201)
    assert data(editor.post("/scheduledruns", json=scheduledrun(namespace)), 409)["reason"] == (
        "AlreadyExists"
    )
    # Our validator has no rule on labels; the apiserver's own refusal passes on as it was.
    labelled = scheduledrun(namespace, name="labelled")
    labelled["metadata"]["labels"] = {"not a key!": "x"}
    assert data(editor.post("/scheduledruns", json=labelled), 422)["reason"] == "Invalid"
    nowhere = scheduledrun("no-such-namespace")
    assert editor.post("/scheduledruns", json=nowhere).status_code in (403, 404)
    broken = editor.post("/scheduledruns", content=b"{", headers=JSON)
    assert data(broken, 400)["reason"] == "BadRequest"


def test_update_errors(editor: User, namespace: str) -> None:
    path = f"/scheduledruns/{namespace}/nightly"
    # Without a precondition (kagent's edit form) and with one, a missing object is 404.
    assert data(editor.put(path, json=scheduledrun(namespace)), 404)["reason"] == "NotFound"
    missing = editor.put(path, json=scheduledrun(namespace), headers={"If-Match": '"1"'})
    assert data(missing, 404)["reason"] == "NotFound"
    data(editor.post("/scheduledruns", json=scheduledrun(namespace)), 201)
    renamed = scheduledrun(namespace, name="other")
    assert editor.put(path, json=renamed, headers={"If-Match": '"1"'}).status_code == 400
    invalid = scheduledrun(namespace, maxRunHistory=1000)
    problems = data(editor.put(path, json=invalid, headers={"If-Match": '"1"'}), 400)["problems"]
    assert [p["field"] for p in problems] == ["spec.maxRunHistory"]
    assert data(editor.delete(f"/scheduledruns/{namespace}/absent"), 404)


def test_suspend_and_resume_reach_the_cronjob(
    control_plane: ControlPlane, operator: OperatorProcess, editor: User, namespace: str
) -> None:
    create_agent(control_plane, namespace, "helper")
    data(editor.post("/scheduledruns", json=scheduledrun(namespace)), 201)
    cronjob = accepted(editor, namespace, "nightly", control_plane)["status"]["cronJobName"]

    def cronjob_suspended(value: bool) -> Callable[[], bool]:
        def check() -> bool:
            job = kubectl_json(control_plane, "-n", namespace, "get", "cronjob", cronjob)
            return bool(job["spec"].get("suspend")) is value

        return check

    path = f"/scheduledruns/{namespace}/nightly"
    assert data(editor.post(f"{path}/suspend"))["spec"]["suspend"] is True
    control_plane.wait_for("CronJob suspended", cronjob_suspended(True), timeout=WAIT)
    assert data(editor.post(f"{path}/resume"))["spec"]["suspend"] is False
    control_plane.wait_for("CronJob resumed", cronjob_suspended(False), timeout=WAIT)
    assert data(editor.post(f"/scheduledruns/{namespace}/absent/suspend"), 404)


# ---- history, next fire times, validation, agents -----------------------------------------


def write_history(plane: ControlPlane, namespace: str, name: str, entries: list[Any]) -> None:
    """Run-history entries as runners write them (a status merge patch)."""
    with plane.client() as client:
        response = client.patch(
            SR.format(ns=namespace) + f"/{name}/status",
            json={"status": {"runHistory": entries}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        response.raise_for_status()


def history_entries(count: int) -> list[dict[str, Any]]:
    # Two runs share each start second, so pages must break ties by id as kagent's do.
    return [
        {
            "id": f"nightly-{i:03d}",
            "trigger": "Scheduled" if i % 3 else "Manual",
            "scheduledTime": f"2026-01-01T{i // 2:02d}:00:00Z",
            "startTime": f"2026-01-01T{i // 2:02d}:00:01Z",
            "endTime": f"2026-01-01T{i // 2:02d}:05:00Z",
            "status": "Succeeded",
            "message": f"run {i}",
        }
        for i in reversed(range(count))
    ]


def test_executions_page_newest_first_like_kagent(
    control_plane: ControlPlane, editor: User, namespace: str
) -> None:
    data(editor.post("/scheduledruns", json=scheduledrun(namespace, maxRunHistory=20)), 201)
    write_history(control_plane, namespace, "nightly", history_entries(9))
    path = f"/scheduledruns/{namespace}/nightly/executions"
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 4}
    while True:
        page = data(editor.get(path, params=params))
        seen += [e["id"] for e in page]
        if len(page) < 4:
            break
        params = {"limit": 4, "before": page[-1]["startTime"], "beforeID": page[-1]["id"]}
    assert seen == [f"nightly-{i:03d}" for i in reversed(range(9))]
    assert data(editor.get(path, params={"beforeID": "x"}), 400)
    assert data(editor.get(path, params={"before": "yesterday"}), 400)
    assert data(editor.get(path, params={"limit": 101}), 400)
    assert data(editor.get(f"/scheduledruns/{namespace}/absent/executions"), 404)


def scheduledrun_cli(plane: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    command = str(Path(sys.executable).with_name("scheduledrun"))
    return subprocess.run(
        [command, *args], capture_output=True, text=True, env=plane.env, timeout=60, check=True
    )


def test_next_fire_times_equal_scheduledrun_next(
    control_plane: ControlPlane, editor: User, namespace: str
) -> None:
    # `H`: the minute is hashed from namespace and name, as the operator will expand it; and
    # an endTime within two days leaves fewer than the three times asked for.
    end = (datetime.now(UTC) + timedelta(hours=36)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = scheduledrun(namespace, schedule="H 9 * * *", endTime=end)
    data(editor.post("/scheduledruns", json=body), 201)
    answer = data(editor.get(f"/scheduledruns/{namespace}/nightly/next", params={"count": 3}))
    printed = scheduledrun_cli(
        control_plane, "next", "nightly", "--namespace", namespace, "--count", "3"
    )
    cli_times = [line.split()[0] for line in printed.stdout.splitlines() if line[2:3].isdigit()]
    assert 1 <= len(cli_times) <= 2, printed.stdout
    assert any("endTime" in note for note in answer["notes"])
    assert [t["time"] for t in answer["times"]] == cli_times
    assert all(t["local"].endswith(("+01:00", "+02:00")) for t in answer["times"])
    assert data(editor.get(f"/scheduledruns/{namespace}/nightly/next", params={"count": 0}), 400)
    assert data(editor.get(f"/scheduledruns/{namespace}/absent/next"), 404)


def test_validate_gives_the_verdict_and_writes_nothing(editor: User, namespace: str) -> None:
    good = data(editor.post("/scheduledruns/validate", json=scheduledrun(namespace)))
    assert (good["valid"], len(good["times"]), good["timeZone"]) == (True, 5, "Europe/Berlin")
    bad = data(editor.post("/scheduledruns/validate", json=scheduledrun(namespace, prompt=" ")))
    assert (bad["valid"], [p["field"] for p in bad["problems"]]) == (False, ["spec.prompt"])
    assert data(editor.get("/scheduledruns", params={"namespace": namespace})) == []
    assert data(editor.post("/scheduledruns/validate", content=b"not json", headers=JSON), 400)


def test_agents_lists_both_target_kinds(
    control_plane: ControlPlane, editor: User, namespace: str
) -> None:
    create_agent(control_plane, namespace, "helper")
    create_agent(control_plane, namespace, "sandboxed", kind="SandboxAgent")
    agents = data(editor.get("/agents", params={"namespace": namespace}))
    assert [(a["kind"], a["name"], a.get("description")) for a in agents] == [
        ("Agent", "helper", "the helper agent"),
        ("SandboxAgent", "sandboxed", "the sandboxed agent"),
    ]


# ---- trigger ------------------------------------------------------------------------------


def manual_jobs(plane: ControlPlane, namespace: str) -> list[dict[str, Any]]:
    jobs = kubectl_json(plane, "-n", namespace, "get", "jobs")["items"]
    return [
        j
        for j in jobs
        if (j["metadata"].get("annotations") or {}).get(api.ANNOTATION_INSTANTIATE) == "manual"
    ]


@pytest.mark.parametrize("policy", ["Allow", "Forbid"])
def test_retried_triggers_with_one_key_start_one_job(
    control_plane: ControlPlane,
    operator: OperatorProcess,
    editor: User,
    namespace: str,
    policy: str,
) -> None:
    create_agent(control_plane, namespace, "helper")
    data(editor.post("/scheduledruns", json=scheduledrun(namespace, concurrencyPolicy=policy)), 201)
    accepted(editor, namespace, "nightly", control_plane)
    path = f"/scheduledruns/{namespace}/nightly/trigger"
    # The caller's trace context rides along: the run joins its trace (runner/trace.py).
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    key = {"Idempotency-Key": "deploy-4711", "traceparent": traceparent}

    # Five attempts at once (a client retrying before the first answer came back).
    with ThreadPoolExecutor(5) as pool:
        attempts = list(pool.map(lambda _: editor.post(path, headers=key), range(5)))
    assert sorted(r.status_code for r in attempts) == [200, 200, 200, 200, 201], [
        r.text for r in attempts
    ]
    first = next(r.json()["data"] for r in attempts if r.status_code == 201)
    assert first["replayed"] is False
    assert {r.json()["data"]["id"] for r in attempts} == {first["id"]}
    later = data(editor.post(path, headers=key))
    assert (later["id"], later["replayed"]) == (first["id"], True)

    jobs = manual_jobs(control_plane, namespace)
    assert [j["metadata"]["name"] for j in jobs] == [first["id"]]
    assert api.ANNOTATION_IDEMPOTENCY_KEY in jobs[0]["metadata"]["annotations"]
    assert jobs[0]["metadata"]["annotations"][api.ANNOTATION_TRACEPARENT] == traceparent
    # What `kubectl create job --from` makes: the CronJob's template, owned by the CronJob.
    owner = jobs[0]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["controller"]) == ("CronJob", True)
    if policy == "Allow":
        other = data(editor.post(path, headers={"Idempotency-Key": "deploy-4712"}), 201)
        assert other["id"] != first["id"]


def test_racing_triggers_under_forbid_start_one_run(
    control_plane: ControlPlane, operator: OperatorProcess, editor: User, namespace: str
) -> None:
    """Two people press "run now" at once: both see no active run, one Job is made."""
    create_agent(control_plane, namespace, "helper")
    data(editor.post("/scheduledruns", json=scheduledrun(namespace)), 201)
    accepted(editor, namespace, "nightly", control_plane)
    path = f"/scheduledruns/{namespace}/nightly/trigger"
    start = threading.Barrier(5)

    def press(_: int) -> httpx.Response:
        with httpx.Client(base_url=editor.http.base_url, headers=editor.http.headers) as own:
            start.wait()
            return own.post(path)

    with ThreadPoolExecutor(5) as pool:
        attempts = list(pool.map(press, range(5)))
    assert sorted(r.status_code for r in attempts) == [201, 409, 409, 409, 409]
    assert {r.json()["data"]["reason"] for r in attempts if r.status_code == 409} == {
        "ConcurrencyForbidden"
    }
    assert len(manual_jobs(control_plane, namespace)) == 1


def test_trigger_follows_the_rules_of_scheduledrun_trigger(
    control_plane: ControlPlane, operator: OperatorProcess, editor: User, namespace: str
) -> None:
    # No Agent "helper": the operator rejects the ScheduledRun (TargetNotFound).
    data(editor.post("/scheduledruns", json=scheduledrun(namespace)), 201)
    path = f"/scheduledruns/{namespace}/nightly/trigger"

    def refusal() -> str:
        return str(data(editor.post(path), 409)["reason"])

    assert refusal() == "NotAccepted"
    control_plane.wait_for(
        "TargetNotFound",
        lambda: "TargetNotFound" in editor.post(path).json()["message"],
        timeout=WAIT,
    )
    create_agent(control_plane, namespace, "helper")
    accepted(editor, namespace, "nightly", control_plane)
    started = data(editor.post(path), 201)
    # Nothing runs pods here, so the Job stays active: Forbid (the default) refuses a second.
    refused = editor.post(path).json()
    assert refused["data"]["reason"] == "ConcurrencyForbidden"
    assert started["id"] in refused["message"]
    forced = data(editor.post(path, params={"force": "true"}), 201)
    assert len(manual_jobs(control_plane, namespace)) == 2

    replace = scheduledrun(namespace, concurrencyPolicy="Replace")
    etag = editor.get(f"/scheduledruns/{namespace}/nightly").headers["etag"]
    data(
        editor.put(f"/scheduledruns/{namespace}/nightly", json=replace, headers={"If-Match": etag})
    )
    replaced = data(editor.post(path), 201)
    assert sorted(replaced["replaced"]) == sorted([started["id"], forced["id"]])
    assert data(editor.post(f"/scheduledruns/{namespace}/absent/trigger"), 404)


# ---- who may do what ----------------------------------------------------------------------


def test_get_only_user_is_refused_every_write_by_the_cluster(
    control_plane: ControlPlane,
    operator: OperatorProcess,
    editor: User,
    reader: User,
    namespace: str,
) -> None:
    create_agent(control_plane, namespace, "helper")
    data(editor.post("/scheduledruns", json=scheduledrun(namespace)), 201)
    accepted(editor, namespace, "nightly", control_plane)
    path = f"/scheduledruns/{namespace}/nightly"
    if_match = {"If-Match": reader.get(path).headers["etag"]}
    attempts = {
        "create": reader.post("/scheduledruns", json=scheduledrun(namespace, name="mine")),
        "update": reader.put(path, json=scheduledrun(namespace, prompt="x"), headers=if_match),
        "delete": reader.delete(path),
        "trigger": reader.post(f"{path}/trigger"),
        "suspend": reader.post(f"{path}/suspend"),
        "resume": reader.post(f"{path}/resume"),
    }  # fmt: skip
    refused = {verb: r.status_code for verb, r in attempts.items()}
    assert refused == dict.fromkeys(attempts, 403)
    assert all(r.json()["data"]["reason"] == "Forbidden" for r in attempts.values())
    assert data(reader.get(path))["spec"]["prompt"] == scheduledrun(namespace)["spec"]["prompt"]
    assert data(reader.get(f"{path}/executions")) == []
    assert manual_jobs(control_plane, namespace) == []


@pytest.fixture
def other_namespace(control_plane: ControlPlane) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    control_plane.kubectl("create", "namespace", name)
    yield name
    control_plane.kubectl("delete", "namespace", name, "--wait=false")


def test_a_namespace_user_sees_nothing_of_another_namespace(
    control_plane: ControlPlane, server: ServerProcess, editor: User, namespace: str,
    other_namespace: str,
) -> None:  # fmt: skip
    other = make_user(control_plane, server, other_namespace, EDITOR_RULES)
    data(editor.post("/scheduledruns", json=scheduledrun(namespace, name="mine")), 201)
    data(other.post("/scheduledruns", json=scheduledrun(other_namespace, name="theirs")), 201)
    create_agent(control_plane, other_namespace, "their-agent")

    everything = data(editor.get("/scheduledruns"))
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in everything] == [
        (namespace, "mine")
    ]
    assert data(editor.get("/agents")) == []
    theirs = f"/scheduledruns/{other_namespace}/theirs"
    for response in (
        editor.get(theirs),
        editor.get(f"{theirs}/executions"),
        editor.get(f"{theirs}/next"),
        editor.delete(theirs),
        editor.post(f"{theirs}/trigger"),
        editor.get("/scheduledruns", params={"namespace": other_namespace}),
        editor.get("/agents", params={"namespace": other_namespace}),
    ):
        assert response.status_code == 403, response.text


def test_no_token_is_401_on_every_route(server: ServerProcess, namespace: str) -> None:
    anonymous = User(server, None)
    path = f"/scheduledruns/{namespace}/x"
    responses = [
        anonymous.get("/scheduledruns"),
        anonymous.post("/scheduledruns", json=scheduledrun(namespace)),
        anonymous.post("/scheduledruns/validate", json=scheduledrun(namespace)),
        anonymous.get(path),
        anonymous.put(path, json=scheduledrun(namespace)),
        anonymous.delete(path),
        anonymous.get(f"{path}/executions"),
        anonymous.get(f"{path}/next"),
        anonymous.post(f"{path}/trigger"),
        anonymous.post(f"{path}/suspend"),
        anonymous.post(f"{path}/resume"),
        anonymous.get("/agents"),
    ]
    assert [r.status_code for r in responses] == [401] * len(responses)
    forged = User(server, "not-a-token")
    assert data(forged.get("/scheduledruns"), 401)["reason"] == "Unauthorized"


def test_a_body_over_1_mib_is_413(editor: User, namespace: str) -> None:
    huge = scheduledrun(namespace, prompt="x" * (1024 * 1024))
    assert data(editor.post("/scheduledruns", json=huge), 413)
    assert data(editor.post("/scheduledruns/validate", json=huge), 413)
    assert data(editor.get("/scheduledruns", params={"namespace": namespace})) == []


# ---- the API and kubectl agree ------------------------------------------------------------


def test_api_and_kubectl_agree(control_plane: ControlPlane, editor: User, namespace: str) -> None:
    data(editor.post("/scheduledruns", json=scheduledrun(namespace, name="from-api")), 201)
    by_kubectl = scheduledrun(namespace, name="from-kubectl", maxRunHistory=20)
    control_plane.kubectl("apply", "-f", "-", input=json.dumps(by_kubectl))
    write_history(control_plane, namespace, "from-kubectl", history_entries(5))

    listed = data(editor.get("/scheduledruns", params={"namespace": namespace}))
    seen = kubectl_json(control_plane, "-n", namespace, "get", "scheduledruns")["items"]

    def key(o: dict[str, Any]) -> tuple[str, str, str]:
        meta = o["metadata"]
        return meta["name"], meta["uid"], meta["resourceVersion"]

    assert sorted(map(key, listed)) == sorted(map(key, seen))
    assert len(listed) == 2
    history = data(editor.get(f"/scheduledruns/{namespace}/from-kubectl/executions"))
    shown = scheduledrun_cli(
        control_plane, "history", "from-kubectl", "-n", namespace, "-o", "json"
    )
    assert history == json.loads(shown.stdout)
    assert [e["id"] for e in history] == [f"nightly-{i:03d}" for i in reversed(range(5))]


# ---- whose the runs are: kagent.dev/created-by, from the caller's token ----------------------


def named_user(plane: ControlPlane, server: ServerProcess, namespace: str, account: str) -> User:
    """An editor whose Kubernetes user name the test knows (a ServiceAccount's)."""
    user = User(server, namespace_user(plane, namespace, account, EDITOR_RULES))
    plane.wait_for(
        "the user's Role to apply",
        lambda: user.get("/scheduledruns", params={"namespace": namespace}).status_code == 200,
        timeout=WAIT,
    )
    return user


def created_by(obj: dict[str, Any]) -> str | None:
    return (obj["metadata"].get("annotations") or {}).get(api.ANNOTATION_CREATED_BY)


def test_the_creator_is_the_token_user_and_stays_through_a_colleagues_edit(
    control_plane: ControlPlane, server: ServerProcess, editor: User, namespace: str
) -> None:
    alice = named_user(control_plane, server, namespace, "alice")
    body = scheduledrun(namespace)
    body["metadata"]["annotations"] = {api.ANNOTATION_CREATED_BY: "admin@kagent.dev"}  # a claim

    made = alice.post("/scheduledruns", json=body)
    assert created_by(data(made, 201)) == f"system:serviceaccount:{namespace}:alice"

    edited = editor.put(
        f"/scheduledruns/{namespace}/nightly",
        json=scheduledrun(namespace, prompt="Summarise last week."),
        headers={"If-Match": made.headers["etag"]},
    )
    assert data(edited)["spec"]["prompt"] == "Summarise last week."
    assert created_by(data(edited)) == f"system:serviceaccount:{namespace}:alice"


def test_an_update_names_the_caller_when_no_one_made_it(
    control_plane: ControlPlane, server: ServerProcess, namespace: str
) -> None:
    control_plane.kubectl("apply", "-f", "-", input=json.dumps(scheduledrun(namespace)))
    carol = named_user(control_plane, server, namespace, "carol")
    path = f"/scheduledruns/{namespace}/nightly"
    assert created_by(data(carol.get(path))) is None

    etag = carol.get(path).headers["etag"]
    updated = carol.put(path, json=scheduledrun(namespace), headers={"If-Match": etag})
    assert created_by(data(updated)) == f"system:serviceaccount:{namespace}:carol"
