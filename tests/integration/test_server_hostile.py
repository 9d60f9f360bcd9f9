"""The REST API against hostile callers (issue 22, items 7 to 11), `scheduledrun serve` as a
process on the real control plane with the real operator: tokens the apiserver does not accept
are refused before any work, the schedule arithmetic does not stall the event loop, client input
is answered 4xx (never 5xx), an Idempotency-Key cannot be reused for another request, and a
browser on another site cannot write. Each was found by a probe of the previous main, which
answered as each test's docstring says.

Not here: local mode's cross-site rules (tests/integration/test_server_local.py), the bounded
memory of lists (bench/api_bench.py), the operator's /metrics (test_hostile_metrics.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from devcluster.accounts import namespace_user
from devcluster.cluster import ControlPlane
from devcluster.operator import OperatorProcess
from devcluster.server import ServerProcess
from runner import api
from tests.kube_helpers import (
    create,
    create_agent,
    scheduledrun,
    wait_condition,
    write_history,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

READ = ["get", "list", "watch"]
EDITOR_RULES = [
    {"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": [*READ, "create", "update",
                                                                     "patch", "delete"]},
    {"apiGroups": ["batch"], "resources": ["cronjobs"], "verbs": READ},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": [*READ, "create", "delete"]},
]  # fmt: skip
# Fires once in four years, in a zone with daylight-saving changes: 100 fire times and the DST
# changes up to the last of them cost about 5 s of CPU on the previous main.
EXPENSIVE: dict[str, Any] = {
    "apiVersion": api.API_VERSION,
    "kind": api.KIND,
    "metadata": {"name": "x", "namespace": "default"},
    "spec": {"schedule": "H H(0-1) 29 2 *", "timeZone": "America/Santiago", "prompt": "p",
             "targetRef": {"kind": "Agent", "name": "a"}},
}  # fmt: skip


@pytest.fixture(scope="module")
def server(control_plane: ControlPlane) -> Iterator[ServerProcess]:
    process = ServerProcess(control_plane).start()
    yield process
    process.stop()
    process.log.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def operator(control_plane: ControlPlane) -> Iterator[OperatorProcess]:
    process = OperatorProcess(control_plane).start()
    yield process
    process.stop()


@pytest.fixture
def editor(control_plane: ControlPlane, server: ServerProcess, namespace: str) -> httpx.Client:
    token = namespace_user(control_plane, namespace, f"u-{uuid.uuid4().hex[:6]}", EDITOR_RULES)
    return httpx.Client(
        base_url=f"{server.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def api_client(server: ServerProcess, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/api", headers=headers or {}, timeout=60)


def test_a_token_the_apiserver_refuses_gets_401_before_any_work(server: ServerProcess) -> None:
    """Was: any bearer string ran the schedule expansion (200 after seconds of CPU)."""
    with api_client(server, {"Authorization": "Bearer not-a-token"}) as client:
        started = time.monotonic()
        response = client.post("/scheduledruns/validate", params={"count": 100}, json=EXPENSIVE)
        took = time.monotonic() - started
    assert response.status_code == 401, response.text
    assert response.json()["message"] == "the cluster does not accept this token"
    assert took < 2.0


def test_expensive_previews_do_not_stall_the_event_loop(
    server: ServerProcess, editor: httpx.Client
) -> None:
    """Was: six of these stalled /healthz for 17 s (the chart's liveness probe gives up after
    its timeout). Now the DST preview is the coming year's and the arithmetic runs in worker
    threads: /healthz answers within a second throughout."""

    def preview(_: int) -> int:
        return editor.post(
            "/scheduledruns/validate", params={"count": 100}, json=EXPENSIVE
        ).status_code

    health: list[float] = []
    with ThreadPoolExecutor(6) as pool, httpx.Client(timeout=30) as probe:
        running = [pool.submit(preview, i) for i in range(6)]
        while not all(f.done() for f in running):
            started = time.monotonic()
            assert probe.get(f"{server.url}/healthz").status_code == 200
            health.append(time.monotonic() - started)
            time.sleep(0.05)
        assert [f.result() for f in running] == [200] * 6
    assert max(health) < 1.0, health


@pytest.mark.parametrize(
    "token",
    [pytest.param("tökén", id="non-ascii"), pytest.param("\u2028x", id="line-separator")],
)
def test_a_token_that_is_not_ascii_is_401(server: ServerProcess, token: str) -> None:
    """Was: 500 (the token could not be sent on in a header)."""
    raw = f"Bearer {token}".encode()
    with api_client(server) as client:
        response = client.get("/scheduledruns", headers=[(b"Authorization", raw)])
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
def test_a_20_digit_if_match_is_400(
    control_plane: ControlPlane, editor: httpx.Client, namespace: str, method: str
) -> None:
    """Was: 502 (the apiserver's 500 for a precondition it cannot parse)."""
    with control_plane.client() as kube:
        create(kube, namespace, scheduledrun("nightly"))
    path = f"/scheduledruns/{namespace}/nightly" + ("/suspend" if method == "POST" else "")
    body = {"spec": scheduledrun("nightly")["spec"]} if method == "PUT" else None
    response = editor.request(
        method, path, json=body, headers={"If-Match": '"99999999999999999999"'}
    )
    assert response.status_code == 400, response.text
    assert "is not a resourceVersion" in response.json()["message"]


def test_a_stored_time_beyond_the_calendar_still_pages(
    control_plane: ControlPlane, editor: httpx.Client, namespace: str
) -> None:
    """The CRD admits `0001-01-01T00:00:00+23:59` (a time before year 1 in UTC); was: every
    executions call of that ScheduledRun answered 500. Also an extreme `before` was 500."""
    odd = {"id": "odd", "trigger": "Manual", "status": "Failed",
           "startTime": "0001-01-01T00:00:00+23:59"}  # fmt: skip
    new = {"id": "new", "trigger": "Manual", "status": "Succeeded",
           "startTime": "2026-03-01T10:00:00Z"}  # fmt: skip
    with control_plane.client() as kube:
        create(kube, namespace, scheduledrun("nightly"))
        write_history(kube, namespace, "nightly", [new, odd])
    path = f"/scheduledruns/{namespace}/nightly/executions"
    listed = editor.get(path)
    assert listed.status_code == 200, listed.text
    assert [e["id"] for e in listed.json()["data"]] == ["new", "odd"]
    extreme = editor.get(path, params={"before": "9999-12-31T23:59:59-23:59"})
    assert extreme.status_code == 400, extreme.text


def test_an_idempotency_key_reused_for_another_request_is_422(
    control_plane: ControlPlane,
    operator: OperatorProcess,
    editor: httpx.Client,
    namespace: str,
) -> None:
    """Was: 200 with the first request's run, whatever the second asked."""
    with control_plane.client() as kube:
        create_agent(kube, namespace, "helper")
        create(kube, namespace, scheduledrun("nightly", concurrencyPolicy="Allow"))
        wait_condition(kube, namespace, "nightly", "True", "ScheduleAccepted")
    path = f"/scheduledruns/{namespace}/nightly/trigger"
    key = {"Idempotency-Key": "deploy-4711"}
    first = editor.post(path, headers=key)
    again = editor.post(path, headers=key)
    forced = editor.post(path, headers=key, params={"force": "true"})
    other_body = editor.post(path, headers=key, json={"note": "another request"})
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert (forced.status_code, other_body.status_code) == (422, 422), forced.text
    assert forced.json()["data"]["reason"] == "IdempotencyKeyReused"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"Sec-Fetch-Site": "cross-site"}, 403, id="cross-site-without-origin"),
        pytest.param({"Content-Type": "text/plain"}, 415, id="text-plain"),
        pytest.param({"Content-Type": "application/x-www-form-urlencoded"}, 415, id="form"),
    ],
)
def test_a_browser_on_another_site_cannot_write(
    editor: httpx.Client, namespace: str, headers: dict[str, str], status: int
) -> None:
    """Was: accepted. Nothing is created."""
    body = {**scheduledrun("nightly"), "metadata": {"name": "nightly", "namespace": namespace}}
    response = editor.post("/scheduledruns", content=json.dumps(body), headers=headers)
    assert response.status_code == status, response.text
    assert editor.get(f"/scheduledruns/{namespace}/nightly").status_code == 404
