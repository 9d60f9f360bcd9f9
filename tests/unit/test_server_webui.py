"""The web UI's serving side: the page and its modules at /ui/ (each with its content type, and
every module type-checked and importing only the UI's own files), the headers that keep untrusted
text harmless (a CSP without inline script, no framing) on every answer, the page's settings,
the session-link template check, and `/api/access` turning access reviews into actions.

The apiserver behind server.kube is replaced through the app's `kube_pool` dependency by
`ReviewingApiserver`, an httpx transport that answers SelfSubjectAccessReviews from a table and
fails on any other call. What the page does
in a browser is in tests/e2e/test_ui.py.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Mount

from runner import api
from server.access import ACTIONS, Permission, allowed_actions, permissions
from server.app import create_app
from server.auth import AuthMode
from server.config import ServerConfig
from server.dependencies import kube_pool
from server.kube import Cluster
from server.webui import UI_DIR, UiFiles, UiSettings, check_session_url

AUTH = {"Authorization": "Bearer t"}
SESSION_URL = "https://kagent.example/agents/{namespace}/{agent}/chat/{sessionID}"


class ReviewingApiserver:
    """Allows exactly `granted`, to the caller whose token is `t`."""

    granted: frozenset[Permission] = frozenset()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/apis/authentication.k8s.io/v1/selfsubjectreviews":
            return httpx.Response(201, json={"status": {"userInfo": {"username": "t"}}})
        where = (request.method, request.url.path)
        assert where == ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        assert request.headers["authorization"] == "Bearer t"
        attrs = json.loads(request.content)["spec"]["resourceAttributes"]
        asked = (attrs["group"], attrs["resource"], attrs["verb"])
        return httpx.Response(200, json={"status": {"allowed": asked in self.granted}})


@pytest.fixture
def kube() -> ReviewingApiserver:
    return ReviewingApiserver()


@pytest.fixture
def client(kube: ReviewingApiserver) -> Iterator[TestClient]:
    cluster = Cluster("https://127.0.0.1:1", ssl.create_default_context())
    app = create_app(ServerConfig(AuthMode.CLIENT, cluster, UiSettings(session_url=SESSION_URL)))
    pool = httpx.AsyncClient(base_url=cluster.server, transport=httpx.MockTransport(kube))
    app.dependency_overrides[kube_pool] = lambda: pool
    with TestClient(app) as test_client:
        yield test_client


def test_the_root_sends_the_browser_to_the_ui(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (302, "/ui/")


def test_the_page_comes_with_a_policy_that_forbids_inline_script(client: TestClient) -> None:
    response = client.get("/ui/")
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


UI_FILES = sorted(p for p in UI_DIR.rglob("*") if p.is_file())
MODULES = [p for p in UI_FILES if p.suffix == ".js"]
# A static import or export ... from '<specifier>', and a dynamic import('<specifier>').
_IMPORT = re.compile(
    r"""(?:^(?:import|export)\b[^;'"]*?\bfrom\s*|\bimport\(\s*)['"]([^'"]+)['"]""", re.M
)


def test_the_page_has_no_inline_script_or_style_and_no_other_origin() -> None:
    page = (UI_DIR / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", page) == ['<script type="module" src="app.js">']
    assert "<style" not in page
    assert not re.search(r"<[^>]*\son\w+\s*=", page), "an inline event handler"
    for path in UI_FILES:
        if path.suffix in (".html", ".js", ".css"):
            assert not re.search(
                r"(?:src|href|url)\s*[=(]\s*['\"]?(?:https?:)?//", path.read_text()
            ), path


def test_the_scripts_never_write_html() -> None:
    assert MODULES
    for path in MODULES:
        script = path.read_text()
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "Function(",
        ):
            assert sink not in script, f"{path.name}: {sink}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(UI_DIR)))
def test_each_module_is_type_checked_and_imports_only_the_uis_own_files(module: Path) -> None:
    """`// @ts-check` first (tsc checks it, scripts/test.sh), and every import a file of ui/
    by a relative path, so the browser loads nothing from elsewhere and nothing missing."""
    text = module.read_text()
    assert text.startswith("// @ts-check\n")
    for specifier in _IMPORT.findall(text):
        assert specifier.startswith(("./", "../")), f"{specifier} is not one of the UI's files"
        target = (module.parent / specifier).resolve()
        assert target.is_relative_to(UI_DIR.resolve()), specifier
        assert target.is_file(), specifier


def test_the_import_reader_sees_every_form(tmp_path: Path) -> None:
    sample = (
        "import { a } from './a.js';\nexport { b } from \"../b.js\";\nawait import('./c.js');\n"
    )
    assert _IMPORT.findall(sample) == ["./a.js", "../b.js", "./c.js"]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        pytest.param("/ui/", "text/html; charset=utf-8", id="page"),
        pytest.param("/ui/app.js", "text/javascript; charset=utf-8", id="entry module"),
        pytest.param("/ui/views/form.js", "text/javascript; charset=utf-8", id="view module"),
        pytest.param("/ui/app.css", "text/css; charset=utf-8", id="style"),
        pytest.param("/ui/favicon.svg", "image/svg+xml", id="icon"),
    ],
)
def test_each_file_goes_out_with_its_type_and_the_policy(
    client: TestClient, path: str, content_type: str
) -> None:
    """A module script needs a JavaScript type (the browser refuses it otherwise, nosniff)."""
    response = client.get(path)
    assert (response.status_code, response.headers["content-type"]) == (200, content_type)
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_a_file_of_another_kind_in_the_folder_is_not_served(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text("// @ts-check\n")
    (tmp_path / "package.json").write_text("{}")
    with TestClient(Starlette(routes=[Mount("/ui", UiFiles(directory=tmp_path))])) as files:
        assert files.get("/ui/app.js").headers["content-type"].startswith("text/javascript")
        assert files.get("/ui/package.json").status_code == 404
        etag = files.get("/ui/app.js").headers["etag"]
        assert files.get("/ui/app.js", headers={"If-None-Match": etag}).status_code == 304


def test_api_answers_carry_the_headers_too(client: TestClient) -> None:
    response = client.get("/api/scheduledruns")
    assert response.status_code == 401
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_settings_say_the_auth_mode_and_the_session_link(client: TestClient) -> None:
    assert client.get("/ui/config.json").json() == {"authMode": "client", "sessionUrl": SESSION_URL}


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("javascript:alert(1)//{sessionID}", id="script scheme"),
        pytest.param("//kagent.example/{sessionID}", id="no scheme"),
        pytest.param("https://kagent.example/{session}", id="unknown field"),
        pytest.param("https://kagent.example/{sessionID.__class__}", id="attribute access"),
    ],
)
def test_a_bad_session_link_template_is_refused(template: str) -> None:
    with pytest.raises(ValueError, match="session URL"):
        check_session_url(template)


def test_a_good_session_link_template_passes() -> None:
    assert check_session_url(SESSION_URL) == SESSION_URL


def test_access_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/access?namespace=ns").status_code == 401


def test_a_reader_may_do_nothing(client: TestClient, kube: ReviewingApiserver) -> None:
    kube.granted = frozenset({(api.GROUP, api.PLURAL, "get")})
    answer = client.get("/api/access?namespace=ns", headers=AUTH).json()["data"]
    assert (answer["namespace"], answer["actions"]) == ("ns", dict.fromkeys(ACTIONS, False))
    assert answer["missing"]["delete"] == [
        {"group": api.GROUP, "resource": api.PLURAL, "verb": "delete"}
    ]


def test_trigger_needs_every_permission_its_route_uses(
    client: TestClient, kube: ReviewingApiserver
) -> None:
    kube.granted = frozenset(permissions()) - {("batch", "jobs", "create")}
    answer = client.get("/api/access?namespace=ns", headers=AUTH).json()["data"]
    assert answer["actions"] == {**dict.fromkeys(ACTIONS, True), "trigger": False}
    # What the UI says a refused action needs: exactly the permission the caller lacks.
    lacking = [{"group": "batch", "resource": "jobs", "verb": "create"}]
    assert answer["missing"] == {**{a: [] for a in ACTIONS}, "trigger": lacking}


def test_each_permission_is_asked_once() -> None:
    wanted = permissions()
    assert len(wanted) == len(set(wanted))
    assert allowed_actions(dict.fromkeys(wanted, True)) == dict.fromkeys(ACTIONS, True)
