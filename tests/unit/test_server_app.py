"""The app's own behaviour before and around the cluster: authentication first, kagent's envelope
on every answer (the framework's own errors too), the 1 MiB body bound (declared and chunked),
and an OpenAPI document that holds every route with the CRD's schema.

The apiserver behind server.kube is replaced through the app's `kube_pool` dependency by an
httpx transport (`apiserver`): the real client runs, with the caller's token, against answers
the test gives. In `client`, any call fails the test: these cases must be decided without asking
the cluster. Everything that reaches a real cluster is in tests/integration/test_server_api.py.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.auth import AuthMode
from server.config import ServerConfig
from server.dependencies import caller_kube, kube_pool
from server.kube import Cluster, KubeClient

AUTH = {"Authorization": "Bearer t"}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
Handler = Callable[[httpx.Request], httpx.Response]


SELF_REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


def accepting_t(handler: Handler, reviewed: list[str] | None = None) -> Handler:
    """The apiserver: the token `t` is someone's (a SelfSubjectReview), any other is no one's
    (each review's token goes to `reviewed`); every other call goes to `handler`."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path != SELF_REVIEW:
            return handler(request)
        if reviewed is not None:
            reviewed.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != "Bearer t":
            return httpx.Response(401, json={"kind": "Status", "reason": "Unauthorized"})
        return httpx.Response(201, json={"status": {"userInfo": {"username": "t"}}})

    return handle


def serving(
    handler: Handler,
    reviewed: list[str] | None = None,
    overrides: dict[Callable[..., Any], Callable[..., Any]] | None = None,
) -> Iterator[TestClient]:
    """The app in client mode, its calls to the cluster answered by `handler` (token `t` is
    accepted), with more dependencies overridden if asked."""
    cluster = Cluster("https://127.0.0.1:1", ssl.create_default_context())
    app = create_app(ServerConfig(AuthMode.CLIENT, cluster))
    app.dependency_overrides.update(overrides or {})
    transport = httpx.MockTransport(accepting_t(handler, reviewed))
    pool = httpx.AsyncClient(base_url=cluster.server, transport=transport)
    app.dependency_overrides[kube_pool] = lambda: pool
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def client() -> Iterator[TestClient]:
    calls: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        return httpx.Response(500)

    yield from serving(no_scheduledruns)
    assert calls == [], "these requests must be decided without asking the cluster"


def test_no_token_is_401_before_anything_else(client: TestClient) -> None:
    response = client.get("/api/scheduledruns/ns/name/executions?limit=0")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert (
        response.json()["error"]
        == "send a Kubernetes bearer token (visible ASCII): Authorization: Bearer <token>"
    )


def test_a_declared_body_over_1_mib_is_413(client: TestClient) -> None:
    big = b" " * (1024 * 1024 + 1)
    response = client.post("/api/scheduledruns", headers=JSON_AUTH, content=big)
    assert response.status_code == 413


def test_a_chunked_body_over_1_mib_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b" " * 65536

    response = client.post("/api/scheduledruns/validate", headers=JSON_AUTH, content=chunks())
    assert response.status_code == 413


def test_an_invalid_object_is_400_naming_each_field_without_a_cluster_call(
    client: TestClient,
) -> None:
    body = {
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "ScheduledRun",
        "metadata": {"name": "x", "namespace": "ns"},
        "spec": {"schedule": "every day", "prompt": " ", "targetRef": {"kind": "Pod", "name": "a"}},
    }
    response = client.post("/api/scheduledruns", headers=AUTH, json=body)
    assert response.status_code == 400
    fields = {p["field"] for p in response.json()["data"]["problems"]}
    assert fields == {"spec.schedule", "spec.prompt", "spec.targetRef.kind"}


def test_an_update_of_a_missing_object_is_404_before_its_spec_is_judged() -> None:
    """kagent's edit form sends the spec only, with no resourceVersion: the object is read first,
    so a missing one is 404 even when the spec is bad."""
    missing = {"kind": "Status", "code": 404, "reason": "NotFound", "message": "not found"}
    for test_client in serving(lambda _: httpx.Response(404, json=missing)):
        response = test_client.put("/api/scheduledruns/ns/x", headers=AUTH, json={"spec": {}})
    assert (response.status_code, response.json()["error"]) == (404, "not found")


def test_framework_errors_use_the_envelope(client: TestClient) -> None:
    response = client.get("/api/nothing-here", headers=AUTH)
    assert response.status_code == 404
    assert set(response.json()) == {"error", "data", "message"}


def test_bad_parameters_are_400_like_kagent(client: TestClient) -> None:
    response = client.get("/api/scheduledruns/ns/x/next?count=0", headers=AUTH)
    assert response.status_code == 400
    assert response.json()["data"]["problems"][0]["field"] == "query.count"


def test_a_bad_name_never_reaches_the_cluster(client: TestClient) -> None:
    assert client.get("/api/scheduledruns/ns/a..b", headers=AUTH).status_code == 400
    assert client.get("/api/scheduledruns/NS/x", headers=AUTH).status_code == 400


def test_the_document_has_every_route_and_the_crds_schema(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    base = "/api/scheduledruns/{namespace}/{name}"
    assert operations == {
        ("GET", "/api/scheduledruns"),
        ("POST", "/api/scheduledruns"),
        ("POST", "/api/scheduledruns/validate"),
        ("GET", base),
        ("PUT", base),
        ("DELETE", base),
        ("GET", f"{base}/executions"),
        ("GET", f"{base}/next"),
        ("POST", f"{base}/trigger"),
        ("POST", f"{base}/suspend"),
        ("POST", f"{base}/resume"),
        ("GET", "/api/agents"),
        ("GET", "/api/access"),
    }
    scheduledrun = document["components"]["schemas"]["ScheduledRun"]
    assert "description" in scheduledrun["properties"]["spec"]["properties"]["schedule"]
    assert scheduledrun["x-kubernetes-group-version-kind"] == [
        {"group": "kagent.dev", "version": "v1alpha2", "kind": "ScheduledRun"}
    ]
    assert document["security"] == [{"bearer": []}]
    assert "HTTPValidationError" not in str(document)


def test_integers_beyond_64_bits_are_still_json() -> None:
    from server.envelope import ok
    from server.kube import dumps

    assert dumps({"n": 2**70}) == b'{"n": 1180591620717411303424}'
    assert bytes(ok({"n": 2**70}, "m").body).startswith(
        b'{"error":false,"data":{"n":1180591620717411303424}'
    )


def paused_scheduledrun(paused: bool, patches: list[Any]) -> Handler:
    """The apiserver holding one ScheduledRun (paused after failures or not); records each PATCH
    body, and that every call carried the caller's token."""

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer t"
        condition = {"type": "Paused", "status": "True" if paused else "False",
                     "lastTransitionTime": "2026-11-30T02:00:05Z"}  # fmt: skip
        obj = {"metadata": {"name": "n", "namespace": "ns", "resourceVersion": "7"},
               "spec": {"suspend": False}, "status": {"conditions": [condition]}}  # fmt: skip
        if request.method == "PATCH":
            patches.append(json.loads(request.content))
        return httpx.Response(200, json=obj)

    return handle


@pytest.mark.parametrize(
    ("paused", "annotations"),
    [
        pytest.param(True, {"kagent.dev/resume": "2026-11-30T02:00:05Z"}, id="paused-lifted"),
        pytest.param(False, None, id="not-paused-only-suspend"),
    ],
)
def test_resume_lifts_a_pause_after_failures_by_naming_it(
    paused: bool, annotations: dict[str, str] | None
) -> None:
    patches: list[Any] = []
    for test_client in serving(paused_scheduledrun(paused, patches)):
        assert test_client.post("/api/scheduledruns/ns/n/resume", headers=AUTH).status_code == 200
    [patch] = patches
    assert patch["spec"] == {"suspend": False}
    assert patch["metadata"].get("annotations") == annotations


def refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected call to the cluster: {request.method} {request.url.path}")


def no_scheduledruns(request: httpx.Request) -> httpx.Response:
    """A cluster with no ScheduledRuns (validate lists them to count shared minutes); any other
    call is unexpected."""
    if request.method == "GET" and request.url.path.endswith("/scheduledruns"):
        return httpx.Response(200, json={"kind": "List", "metadata": {}, "items": []})
    return refuse(request)


# A schedule that fires once in four years, in a zone with daylight-saving changes: before the
# fix, 100 of its fire times and the DST changes up to the last one took seconds of CPU.
EXPENSIVE = {
    "apiVersion": "kagent.dev/v1alpha2",
    "kind": "ScheduledRun",
    "metadata": {"name": "x", "namespace": "ns"},
    "spec": {"schedule": "H H(0-1) 29 2 *", "timeZone": "America/Santiago", "prompt": "p",
             "targetRef": {"kind": "Agent", "name": "a"}},
}  # fmt: skip


def test_a_token_the_cluster_refuses_is_401_before_any_work() -> None:
    """Issue 22, item 7: any bearer string reached the schedule arithmetic."""
    reviewed: list[str] = []
    for test_client in serving(refuse, reviewed):
        response = test_client.post(
            "/api/scheduledruns/validate?count=100",
            headers={"Authorization": "Bearer garbage"},
            json=EXPENSIVE,
        )
        assert response.status_code == 401
        assert response.json()["message"] == "the cluster does not accept this token"
    assert reviewed == ["Bearer garbage"]


def test_a_token_review_is_remembered() -> None:
    reviewed: list[str] = []
    for test_client in serving(no_scheduledruns, reviewed):
        for _ in range(3):
            response = test_client.post("/api/scheduledruns/validate", headers=AUTH, json=EXPENSIVE)
            assert response.status_code == 200
        for _ in range(3):
            assert (
                test_client.get(
                    "/api/access?namespace=ns", headers={"Authorization": "Bearer x"}
                ).status_code
                == 401
            )
    assert reviewed == ["Bearer t", "Bearer x"]


def test_the_expensive_preview_is_bounded(client: TestClient) -> None:
    """The DST changes are the coming year's: two for Santiago, not one per change until the
    hundredth fire time (138 changes, each a five-year search)."""
    response = client.post("/api/scheduledruns/validate?count=100", headers=AUTH, json=EXPENSIVE)
    verdict = response.json()["data"]
    assert (response.status_code, verdict["valid"], len(verdict["dst"])) == (200, True, 2)


def test_a_crash_is_a_500_with_the_security_headers_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> KubeClient:
        raise RuntimeError("a bug")

    with caplog.at_level(logging.ERROR):
        for test_client in serving(refuse, overrides={caller_kube: broken}):
            response = test_client.get("/api/scheduledruns/ns/x", headers=AUTH)
    assert response.status_code == 500
    assert response.json()["message"] == "internal error (see the server's log)"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert [r.getMessage() for r in caplog.records] == ["GET /api/scheduledruns/ns/x failed"]


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        pytest.param("DELETE", "/api/scheduledruns/ns/x", {"If-Match": '"99999999999999999999"'},
                     id="if-match-beyond-int64"),
        pytest.param("GET", "/api/scheduledruns/ns/x/executions?before=0001-01-01T00:00:00%2B23:59",
                     {}, id="before-below-year-1"),
        pytest.param("GET", "/api/scheduledruns/ns/x/executions?before=9999-12-31T23:59:59-23:59",
                     {}, id="before-beyond-year-9999"),
    ],
)  # fmt: skip
def test_client_input_is_400_not_5xx(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    """Issue 22, item 9: these were 500 and 502."""
    response = client.request(method, path, headers={**AUTH, **headers})
    assert response.status_code == 400
    assert response.json()["message"]


def test_a_stored_history_time_out_of_range_pages_as_the_oldest() -> None:
    """The CRD admits `0001-01-01T00:00:00+23:59`; every executions call of its ScheduledRun
    answered 500."""
    history = [
        {"id": "odd", "startTime": "0001-01-01T00:00:00+23:59"},
        {"id": "new", "startTime": "2026-03-01T10:00:00Z"},
    ]
    obj = {"metadata": {"name": "x", "namespace": "ns"}, "status": {"runHistory": history}}
    for test_client in serving(lambda _: httpx.Response(200, json=obj)):
        response = test_client.get("/api/scheduledruns/ns/x/executions", headers=AUTH)
    assert response.status_code == 200
    assert [e["id"] for e in response.json()["data"]] == ["new", "odd"]


def test_the_neighbours_of_a_preview_are_read_in_small_pages_and_kept_slim() -> None:
    """The fire-time preview counts who shares each minute from a list of every ScheduledRun:
    it is read 20 at a time and only the schedule fields kept, so a tenant's 250 KB
    annotations are never all decoded at once; the counts are those of the whole objects."""

    def sr(name: str, schedule: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": "team", "uid": name,
                             "annotations": {"blob": "x" * 250_000}},
                "spec": {"schedule": schedule, "timeZone": "UTC"}}  # fmt: skip

    stored = [sr(f"n{i:02d}", "0 */2 * * *" if i % 2 else "30 * * * *") for i in range(45)]
    asked: list[str | None] = []

    def lists(request: httpx.Request) -> httpx.Response:
        limit, start = request.url.params.get("limit"), int(request.url.params.get("continue", 0))
        asked.append(limit)
        page = stored[start : start + int(limit or 500)]
        following = str(start + len(page)) if start + len(page) < len(stored) else None
        return httpx.Response(200, json={"items": page, "metadata": {"continue": following}})

    spec = {"schedule": "0 */2 * * *", "timeZone": "UTC", "prompt": "p",
            "targetRef": {"kind": "Agent", "name": "a"}}  # fmt: skip
    mine = {**EXPENSIVE, "metadata": {"name": "mine", "namespace": "team"}, "spec": spec}
    for test_client in serving(lists):
        response = test_client.post("/api/scheduledruns/validate?count=1", headers=AUTH, json=mine)
    first = response.json()["data"]["times"][0]
    assert (first["shared"], first["sharedInCluster"]) == (22, 22)
    assert asked == ["20", "20", "20"]
