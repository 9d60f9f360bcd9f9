"""kagent's REST contract on `/api/scheduledruns` (issue 20, section 1), as kagent's clients use
it, against `scheduledrun serve` on the real control plane with the real operator.

Read from kagent's handlers (`go/core/internal/httpserver/handlers/scheduledruns.go`: create
fills in the namespace from `GetResourceNamespace`, update replaces the stored object's spec with
the one sent, trigger answers the new run's history entry) and its UI's client
(`ui/src/app/actions/utils.ts` `fetchApi`: on a non-2xx it shows `errorData.error` when truthy,
else `errorData.message`; it appends `user_id` to every request). Where this project keeps its
own judgement (an idempotent trigger, Forbid honoured, a precondition honoured when sent), the
README's "How it maps to kagent" says so. Also section 5: `scheduledrun serve` started as a
kubectl user starts it, the apiserver's address and CA taken from the kubeconfig.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devcluster.accounts import namespace_user
from devcluster.cluster import ControlPlane
from devcluster.operator import OperatorProcess
from devcluster.server import ServerProcess
from runner import api
from tests.kube_helpers import create, create_agent, get_sr, scheduledrun, wait_condition

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

READ = ["get", "list", "watch"]
EDITOR_RULES = [
    {"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": [*READ, "create", "update",
                                                                     "patch", "delete"]},
    {"apiGroups": ["batch"], "resources": ["cronjobs"], "verbs": READ},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": [*READ, "create", "delete"]},
]  # fmt: skip


@pytest.fixture(scope="module")
def operator(control_plane: ControlPlane) -> Iterator[OperatorProcess]:
    process = OperatorProcess(control_plane).start()
    yield process
    process.stop()


@pytest.fixture
def server(control_plane: ControlPlane, namespace: str) -> Iterator[ServerProcess]:
    """The server with this test's namespace as its default, as one in that namespace has."""
    process = ServerProcess(control_plane, args=["--default-namespace", namespace]).start()
    yield process
    process.stop()
    process.log.unlink(missing_ok=True)


def kagent_ui(plane: ControlPlane, server: ServerProcess, namespace: str) -> httpx.Client:
    """A client that asks as kagent's UI asks: the user's token, `?user_id=` on every request."""
    token = namespace_user(plane, namespace, f"u-{uuid.uuid4().hex[:6]}", EDITOR_RULES)
    return httpx.Client(
        base_url=f"{server.url}/api",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        params={"user_id": "admin@kagent.dev"},
        timeout=60,
    )


def shown_error(response: httpx.Response) -> str:
    """What kagent's UI shows for a failed request (fetchApi)."""
    body: dict[str, Any] = response.json()
    return str(body["error"] or body["message"])


def test_every_failure_carries_the_readable_message_as_error(
    control_plane: ControlPlane, server: ServerProcess, namespace: str
) -> None:
    ui = kagent_ui(control_plane, server, namespace)
    missing = ui.get(f"/scheduledruns/{namespace}/nothing")
    bad_json = ui.post("/scheduledruns", content=b"{")
    assert (missing.status_code, bad_json.status_code) == (404, 400)
    for failed in (missing, bad_json):
        body = failed.json()
        assert isinstance(body["error"], str)
        assert body["error"] == body["message"] == shown_error(failed)
        assert body["data"]["status"] == failed.status_code
    assert 'scheduledruns.kagent.dev "nothing" not found' in shown_error(missing)
    assert shown_error(bad_json).startswith("the body is not JSON")
    ok = ui.get("/scheduledruns", params={"namespace": namespace}).json()
    assert (ok["error"], ok["data"]) == (False, [])


def test_create_as_kagent_sends_it_lands_in_the_default_namespace(
    control_plane: ControlPlane, server: ServerProcess, namespace: str
) -> None:
    """No apiVersion, no kind, no namespace: kagent's UI and scripts send only the name and
    spec."""
    ui = kagent_ui(control_plane, server, namespace)
    spec = scheduledrun("nightly")["spec"]
    created = ui.post("/scheduledruns", json={"metadata": {"name": "nightly"}, "spec": spec})
    assert created.status_code == 201, created.text
    assert created.json()["data"]["metadata"]["namespace"] == namespace
    with control_plane.client() as kube:
        assert get_sr(kube, namespace, "nightly")["spec"]["prompt"] == spec["prompt"]


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        pytest.param({"schedule": "every day"}, "spec.schedule", id="bad-schedule"),
        pytest.param({"timeZone": "Mars/Base"}, "spec.timeZone", id="bad-time-zone"),
    ],
)
def test_a_bad_schedule_or_zone_is_400_with_a_readable_error(
    control_plane: ControlPlane,
    server: ServerProcess,
    namespace: str,
    spec: dict[str, str],
    shown: str,
) -> None:
    ui = kagent_ui(control_plane, server, namespace)
    body = {"metadata": {"name": "nightly"}, "spec": {**scheduledrun("nightly")["spec"], **spec}}
    response = ui.post("/scheduledruns", json=body)
    assert response.status_code == 400, response.text
    assert shown in shown_error(response)


def test_update_with_the_spec_only_applies_it_to_the_current_object(
    control_plane: ControlPlane, server: ServerProcess, namespace: str
) -> None:
    """kagent's edit form sends `{"spec": ...}` with no resourceVersion."""
    ui = kagent_ui(control_plane, server, namespace)
    with control_plane.client() as kube:
        stored = create(kube, namespace, scheduledrun("nightly"))
    spec = {**stored["spec"], "prompt": "Summarise last week."}
    path = f"/scheduledruns/{namespace}/nightly"
    updated = ui.put(path, json={"spec": spec})
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["spec"]["prompt"] == "Summarise last week."
    with control_plane.client() as kube:
        assert get_sr(kube, namespace, "nightly")["spec"]["prompt"] == "Summarise last week."

    # A precondition the caller gives is still honoured.
    stale = ui.put(path, json={"spec": spec}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409, stale.text
    # A missing object is 404 before anything else is judged; a bad schedule is 400.
    bad = {**spec, "schedule": "every day"}
    assert ui.put(f"/scheduledruns/{namespace}/nothing", json={"spec": bad}).status_code == 404
    refused = ui.put(path, json={"spec": bad})
    assert (refused.status_code, "spec.schedule" in shown_error(refused)) == (400, True)


def test_trigger_answers_the_new_runs_history_entry(
    control_plane: ControlPlane, operator: OperatorProcess, server: ServerProcess, namespace: str
) -> None:
    ui = kagent_ui(control_plane, server, namespace)
    with control_plane.client() as kube:
        create_agent(kube, namespace, "helper")
        create(kube, namespace, scheduledrun("nightly"))
        create(kube, namespace, scheduledrun("orphan", target="nobody"))
        wait_condition(kube, namespace, "nightly", "True", "ScheduleAccepted")
    started = ui.post(f"/scheduledruns/{namespace}/nightly/trigger")
    assert started.status_code in (200, 201), started.text
    entry = started.json()["data"]
    assert (entry["trigger"], entry["status"]) == ("Manual", "Pending")
    assert entry["id"]
    assert entry["startTime"]
    # Forbid (the default) is honoured while that run is active: a 409 kagent's UI can show.
    again = ui.post(f"/scheduledruns/{namespace}/nightly/trigger")
    assert (again.status_code, "Forbid" in shown_error(again)) == (409, True)
    refused = ui.post(f"/scheduledruns/{namespace}/orphan/trigger")
    assert refused.status_code == 409, refused.text
    assert shown_error(refused)
    assert ui.post(f"/scheduledruns/{namespace}/nothing/trigger").status_code == 404


def test_serve_takes_the_apiserver_from_the_kubeconfig_and_never_its_credentials(
    control_plane: ControlPlane, namespace: str
) -> None:
    """Issue 20, section 5: outside a pod, `--apiserver` absent, client mode was a usage error.
    The kubeconfig is the admin's: a request without a token must still get 401, and a
    namespace user's token only what that user may do."""
    process = ServerProcess(control_plane, from_kubeconfig=True).start()
    try:
        with httpx.Client(base_url=f"{process.url}/api", timeout=60) as anonymous:
            assert anonymous.get("/scheduledruns").status_code == 401
        ui = kagent_ui(control_plane, process, namespace)
        assert ui.get("/scheduledruns", params={"namespace": namespace}).status_code == 200
        assert ui.get("/scheduledruns", params={"namespace": "kube-system"}).status_code == 403
    finally:
        process.stop()
        process.log.unlink(missing_ok=True)
