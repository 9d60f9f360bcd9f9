"""The web UI in a real headless Chromium (Debian's package, driven by Playwright), on the real
API server (`scheduledrun serve`, client auth mode: every call made with the signed-in user's
ServiceAccount token), the real control plane, the chart's operator, runner pods and the a2a-sdk
test agents.

Covers: the whole flow a user clicks through (sign in, list, create with a bad schedule then
fixed, the preview equal to `scheduledrun next`, run now with the history row turning Succeeded
without a reload, suspend, resume, edit, delete); an agent answer holding HTML showing as text
and running nothing; a user with only `get` seeing no working action and refused when forcing
one; a page of another origin unable to act for the user (client and local auth modes); the
keyboard alone being enough. Saves the screenshots the README shows (into a temporary folder, or
the one $SCHEDULEDRUN_SCREENSHOTS names). Not covered: the API's own rules (its tests).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devcluster.accounts import namespace_user
from devcluster.cluster import ControlPlane, eventually
from devcluster.server import ServerProcess
from devcluster.stack import REPO, Stack, sr_path
from runner import api
from tests.kube_helpers import apply

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

BROWSER_SCRIPT = REPO / "devcluster" / "browser.sh"
# Where the screenshots go: a temporary folder, or the README's (docs/screenshots) when this
# names it: `SCHEDULEDRUN_SCREENSHOTS=docs/screenshots pytest tests/e2e/test_ui.py`.
SCREENSHOTS_ENV = "SCHEDULEDRUN_SCREENSHOTS"
SESSION_URL = "https://kagent.example/agents/{namespace}/{agent}/chat/{sessionID}"
SLOW_AGENT = "slow-6000-reporter"  # works six seconds: the UI shows the run Pending, then done
ECHO_AGENT = "echo-reporter"
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
WAIT_MS = 120_000
# Each step's wait: generous, as the machine running the tests may be busy (CI, shared cores).
STEP_MS = 30_000

# Admin of ScheduledRuns in one namespace: what the API's routes need on the user's behalf.
ADMIN_RULES = [
    {
        "apiGroups": [api.GROUP],
        "resources": [api.PLURAL],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": [api.GROUP], "resources": ["agents", "sandboxagents"], "verbs": ["get", "list"]},
    {"apiGroups": ["batch"], "resources": ["cronjobs"], "verbs": ["get"]},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "create", "delete"]},
]
VIEWER_RULES = [{"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": ["get"]}]


def chromium() -> str:
    """Debian's chromium: installed by devcluster/browser.sh (a no-op once it is there)."""
    found = shutil.which("chromium")
    if found:
        return found
    result = subprocess.run(
        ["bash", str(BROWSER_SCRIPT)], capture_output=True, text=True, check=False, timeout=900
    )
    assert result.returncode == 0, f"browser.sh failed:\n{result.stderr[-3000:]}"
    return result.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class Users:
    namespace: str
    admin: str  # bearer tokens of ServiceAccounts
    viewer: str


@pytest.fixture(scope="module")
def users(control_plane: ControlPlane, stack: Stack) -> Iterator[Users]:
    namespace = f"ui-{uuid.uuid4().hex[:8]}"
    plane = control_plane
    plane.kubectl("create", "namespace", namespace)
    plane.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    for name in (SLOW_AGENT, ECHO_AGENT):
        apply(
            plane,
            {
                "apiVersion": api.API_VERSION,
                "kind": "Agent",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"description": f"the {name.split('-')[0]} test agent"},
            },
        )
    eventually(
        "the namespace's default ServiceAccount",
        lambda: plane.kubectl("-n", namespace, "get", "sa", "default", check=False).returncode == 0,
        timeout=30,
    )
    yield Users(
        namespace,
        admin=namespace_user(plane, namespace, "sr-admin", ADMIN_RULES),
        viewer=namespace_user(plane, namespace, "sr-viewer", VIEWER_RULES),
    )
    plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(scope="module")
def server(control_plane: ControlPlane) -> Iterator[ServerProcess]:
    """`scheduledrun serve` in client auth mode: it holds no credentials of its own."""
    process = ServerProcess(control_plane, "client", [f"--session-url={SESSION_URL}"]).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def local_server(control_plane: ControlPlane) -> Iterator[ServerProcess]:
    """`scheduledrun serve --auth-mode local`: the admin kubeconfig's credentials, no sign-in."""
    process = ServerProcess(control_plane, "local").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=STEP_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Tab:
    page: Page
    errors: list[str]  # uncaught script errors


def new_tab(browser: Browser, width: int = 1280) -> Tab:
    """A fresh browser context (its own sessionStorage): another user's tab. Records any
    Content-Security-Policy violation (window.__violations) and any uncaught script error."""
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        timezone_id="America/New_York",
        locale="en-GB",
    )
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return Tab(page, errors)


def sign_in(page: Page, server: ServerProcess, token: str, route: str = "#/") -> None:
    page.goto(f"{server.url}/ui/{route}")
    page.get_by_label("Kubernetes bearer token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {folder}")
    return folder


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def get_sr(plane: ControlPlane, namespace: str, name: str) -> httpx.Response:
    with plane.client() as client:
        return client.get(sr_path(namespace, name))


def cli_next(plane: ControlPlane, namespace: str, name: str) -> list[str]:
    """The UTC fire times `scheduledrun next NAME` prints."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("scheduledrun")), "next", name,
         f"--namespace={namespace}", "--count", "5"],
        env=plane.env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return re.findall(r"^\s+(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", result.stdout, re.MULTILINE)


def preview_times(page: Page, where: str) -> list[str]:
    return [str(t) for t in page.locator(f"{where} time.fire").evaluate_all(
        "(els) => els.map((e) => e.getAttribute('datetime'))")]  # fmt: skip


def create_via_api(
    server: ServerProcess, token: str, namespace: str, name: str, **spec: Any
) -> None:
    body = {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"schedule": "0 3 * * *", "targetRef": {"kind": "Agent", "name": ECHO_AGENT},
                 **spec},
    }  # fmt: skip
    answer = httpx.post(
        f"{server.url}/api/scheduledruns",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text


def test_the_whole_flow(
    control_plane: ControlPlane,
    stack: Stack,
    users: Users,
    server: ServerProcess,
    browser: Browser,
    screenshots: Path,
) -> None:
    plane, ns, name = control_plane, users.namespace, "ui-report"
    tab = new_tab(browser)
    page = tab.page
    sign_in(page, server, users.admin)
    expect(page.get_by_role("heading", name="Schedules")).to_be_visible()

    # Create, with a schedule the validator refuses first: the field shows why, as you type.
    page.get_by_role("link", name="New schedule").first.click()
    expect(page.get_by_role("heading", name="New schedule")).to_be_visible()
    page.get_by_label("Namespace").fill(ns)
    page.get_by_label("Namespace").dispatch_event("change")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Schedule", exact=True).fill("61 2 * * *")
    expect(page.locator("#schedule-error")).to_contain_text("61")
    expect(page.get_by_label("Schedule", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#preview")).to_contain_text("Fix the schedule")
    shot(page, screenshots, "form-error")

    page.get_by_label("Schedule", exact=True).fill("30 2 * * *")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Agent", exact=True).select_option(f"Agent/{SLOW_AGENT}")
    page.get_by_label("Prompt").fill("Summarise yesterday's warning events.")
    expect(page.locator("#verdict")).to_have_text("Valid: the operator will accept this.")
    expect(page.locator("#schedule-error")).to_be_empty()
    expect(page.locator("#preview time.fire")).to_have_count(5)
    expect(page.locator("#dst")).to_contain_text("02:30 does not exist that day and is skipped")
    expect(page.locator("#dst")).to_contain_text("02:30 happens twice and fires twice")
    previewed = preview_times(page, "#preview")
    shot(page, screenshots, "form")
    page.set_viewport_size({"width": 390, "height": 900})
    shot(page, screenshots, "form-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator(".badges")).to_contain_text("Accepted", timeout=WAIT_MS)
    assert previewed == cli_next(plane, ns, name)
    expect(page.locator("#main time.fire")).to_have_count(5)
    assert preview_times(page, "#main") == previewed

    # Run now: the history row appears Pending and turns Succeeded, with no reload.
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Run now").click()
    row = page.locator("#history tbody tr").first
    status = row.locator("[data-status]")
    expect(status).to_have_attribute("data-status", "Pending", timeout=WAIT_MS)
    expect(row.locator("[data-status]")).to_have_attribute(
        "data-status", "Succeeded", timeout=WAIT_MS
    )
    expect(row).to_contain_text("slow done")
    expect(row).to_contain_text("Manual")
    session = row.locator("td.id a")
    expect(session).to_have_attribute(
        "href", re.compile(rf"^https://kagent\.example/agents/{ns}/{SLOW_AGENT}/chat/[-0-9a-f]+$")
    )
    assert page.evaluate("window.__sameDocument") is True
    shot(page, screenshots, "detail")
    page.set_viewport_size({"width": 390, "height": 900})
    shot(page, screenshots, "detail-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Suspend, then resume: the cluster's object follows, the page shows it.
    page.get_by_role("button", name="Suspend").click()
    expect(page.locator(".badges")).to_contain_text("Suspended")
    assert get_sr(plane, ns, name).json()["spec"]["suspend"] is True
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("button", name="Suspend")).to_be_visible()
    assert get_sr(plane, ns, name).json()["spec"]["suspend"] is False

    # Edit: the form holds the stored spec; a new schedule is saved (with the resourceVersion).
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Schedule", exact=True)).to_have_value("30 2 * * *")
    expect(page.get_by_label("Agent", exact=True)).to_have_value(f"Agent/{SLOW_AGENT}")
    page.get_by_label("Schedule", exact=True).fill("0 9 * * 1-5")
    page.get_by_label("Pause after failures").fill("0")
    expect(page.locator("#pauseAfterFailures-error")).not_to_be_empty()
    page.get_by_label("Pause after failures").fill("3")
    expect(page.locator("#verdict")).to_have_text("Valid: the operator will accept this.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.spec")).to_contain_text("0 9 * * 1-5")
    saved = get_sr(plane, ns, name).json()["spec"]
    assert (saved["schedule"], saved["pauseAfterFailures"]) == ("0 9 * * 1-5", 3)

    # A limit of two runs: the page shows two fire times and why, as `scheduledrun next` does.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Most scheduled runs").fill("2")
    expect(page.locator("#preview time.fire")).to_have_count(2)
    expect(page.locator("#preview")).to_contain_text("maxRuns: 2 of 2 scheduled runs left")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.spec")).to_contain_text("2 (0 so far)")
    expect(page.locator("#main time.fire")).to_have_count(2)
    assert preview_times(page, "#main") == cli_next(plane, ns, name)

    # The list shows it with its last run, beside others (screenshots of it at both widths).
    create_via_api(server, users.admin, ns, "ui-hourly-check", schedule="@hourly", suspend=True,
                   prompt="Check the ingress certificates")  # fmt: skip
    create_via_api(server, users.admin, ns, "ui-weekly-cost", schedule="0 9 * * 1",
                   timeZone="America/New_York", prompt="Weekly cost report",
                   targetRef={"kind": "SandboxAgent", "name": "cost-agent"})  # fmt: skip
    page.get_by_role("link", name="Schedules").click()
    expect(page.locator("tr[data-name='ui-weekly-cost']")).to_contain_text("TargetNotFound")
    expect(page.locator("#toast")).to_be_empty(timeout=10_000)  # no message over the shot
    listed = page.locator(f"tr[data-name='{name}']")
    expect(listed).to_contain_text("Succeeded")
    expect(listed).to_contain_text("0 9 * * 1-5")
    shot(page, screenshots, "list")
    page.set_viewport_size({"width": 390, "height": 900})
    shot(page, screenshots, "list-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Delete asks first; Cancel keeps it, Delete removes it.
    listed.get_by_role("button", name="Delete").click()
    expect(page.locator("#confirm")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#confirm")).to_be_hidden()
    assert get_sr(plane, ns, name).status_code == 200
    listed.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name=f"Delete {name}").click()
    expect(listed).to_have_count(0)
    eventually("the ScheduledRun gone", lambda: get_sr(plane, ns, name).status_code == 404)
    assert tab.errors == []
    assert page.evaluate("window.__violations") == []


def test_agent_html_shows_as_text_and_runs_nothing(
    control_plane: ControlPlane, stack: Stack, users: Users, server: ServerProcess, browser: Browser
) -> None:
    ns, name = users.namespace, "ui-hostile"
    prompt = f"{HOSTILE} and a long tail so the message is shown in full only on demand: " + (
        "padding " * 20
    )
    create_via_api(server, users.admin, ns, name, prompt=prompt)
    eventually(
        "accepted",
        lambda: (get_sr(control_plane, ns, name).json().get("status") or {}).get("cronJobName"),
    )
    tab = new_tab(browser)
    page = tab.page
    sign_in(page, server, users.admin, f"#/sr/{ns}/{name}")
    page.get_by_role("button", name="Run now").click()
    row = page.locator("#history tbody tr").first
    expect(row.locator("[data-status]")).to_have_attribute(
        "data-status", "Succeeded", timeout=WAIT_MS
    )
    row.locator("summary").click()
    expect(row.locator("details pre")).to_have_text(f"echo: {prompt}")
    expect(page.locator("pre.prompt")).to_have_text(prompt)
    page.get_by_role("link", name="Schedules").click()
    expect(page.locator(f"tr[data-name='{name}']")).to_be_visible()
    page.go_back()
    expect(page.locator("#history details")).to_have_count(1)

    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1  # app.js
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("window.__violations") == []
    assert tab.errors == []


FORCE = """async ([method, url, body]) => {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem('scheduledrun.token')}` };
    if (body !== null) headers['Content-Type'] = 'application/json';
    const sent = body === null ? undefined : JSON.stringify(body);
    return (await fetch(url, { method, headers, body: sent })).status;
}"""


def force(page: Page, method: str, url: str, body: dict[str, Any] | None = None) -> int:
    """Send a request from the page with the signed-in user's own token, as a user could."""
    status: int = page.evaluate(FORCE, [method, url, body])
    return status


def test_a_user_with_only_get_cannot_act(
    control_plane: ControlPlane, stack: Stack, users: Users, server: ServerProcess, browser: Browser
) -> None:
    plane, ns, name = control_plane, users.namespace, "ui-readonly"
    create_via_api(server, users.admin, ns, name, prompt="Report", suspend=True)
    before = get_sr(plane, ns, name).json()
    tab = new_tab(browser)
    page = tab.page
    sign_in(page, server, users.viewer, f"#/sr/{ns}/{name}")
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("dl.spec")).to_contain_text("Report")
    buttons = page.locator("#main [data-action]")
    expect(buttons).to_have_count(4)  # run now, resume, edit, delete
    for i in range(4):
        expect(buttons.nth(i)).to_be_disabled()
    page.goto(f"{server.url}/ui/#/sr/{ns}/{name}/edit")
    expect(page.get_by_role("button", name="Save")).to_be_disabled()
    expect(page.locator("#rbac")).to_contain_text("Not allowed")

    # Forcing the requests from the page, with the viewer's own token: the cluster refuses.
    path = f"/api/scheduledruns/{ns}/{name}"
    meta = {"name": name, "namespace": ns, "resourceVersion": before["metadata"]["resourceVersion"]}
    changed = {**before, "metadata": meta, "spec": {**before["spec"], "prompt": "changed"}}
    sneaky = {**changed, "metadata": {"name": "ui-sneaky", "namespace": ns}}
    forced = [
        force(page, "POST", f"{path}/trigger"),
        force(page, "POST", f"{path}/resume"),
        force(page, "PUT", path, changed),
        force(page, "DELETE", path),
        force(page, "POST", "/api/scheduledruns", sneaky),
    ]
    assert forced == [403, 403, 403, 403, 403]
    after = get_sr(plane, ns, name).json()
    assert after["spec"] == before["spec"]
    assert get_sr(plane, ns, "ui-sneaky").status_code == 404
    jobs = plane.kubectl("-n", ns, "get", "jobs", "-o", "name").stdout
    assert name not in jobs


class _CrossSitePage(BaseHTTPRequestHandler):
    """Another origin's page that tries to make the user's browser trigger a run."""

    target = ""

    def do_GET(self) -> None:
        html = (
            f'<form id="f" method="post" action="{self.target}"></form>'
            "<script>fetch(document.getElementById('f').action, {method: 'POST',"
            " credentials: 'include', mode: 'no-cors'}).finally("
            "() => document.getElementById('f').submit());</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(html)))
        self.end_headers()
        self.wfile.write(html)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("mode", ["client", "local"])
def test_another_site_cannot_act_for_the_user(
    control_plane: ControlPlane,
    stack: Stack,
    users: Users,
    server: ServerProcess,
    local_server: ServerProcess,
    browser: Browser,
    mode: str,
) -> None:
    """Client mode: the user is signed in, in this browser. Local mode: the server acts with the
    kubeconfig's own credentials for whoever reaches it, so only its origin check stands."""
    plane, ns, name = control_plane, users.namespace, f"ui-crosssite-{mode}"
    create_via_api(server, users.admin, ns, name, prompt="Report")
    eventually(
        "accepted",
        lambda: (get_sr(plane, ns, name).json().get("status") or {}).get("cronJobName"),
    )
    tab = new_tab(browser)
    page = tab.page
    target = server if mode == "client" else local_server
    if mode == "client":
        sign_in(page, server, users.admin)
    else:
        page.goto(f"{local_server.url}/ui/")
        expect(page.get_by_role("heading", name="Schedules")).to_be_visible()
        expect(page.locator(f"tr[data-name='{name}']")).to_be_visible()

    _CrossSitePage.target = f"{target.url}/api/scheduledruns/{ns}/{name}/trigger"
    other = ThreadingHTTPServer(("127.0.0.1", 0), _CrossSitePage)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        statuses: list[int] = []
        evil = page.context.new_page()
        evil.on(
            "response",
            lambda r: statuses.append(r.status) if r.url == _CrossSitePage.target else None,
        )
        evil.goto(f"http://localhost:{other.server_address[1]}/")
        evil.wait_for_url(_CrossSitePage.target)
    finally:
        other.shutdown()
    assert statuses, "the other site's form was not sent"
    assert all(status in (401, 403) for status in statuses), statuses
    jobs = plane.kubectl("-n", ns, "get", "jobs", "-o", "name").stdout
    assert name not in jobs


def focus_by_tab(page: Page, where: str, label: str, limit: int = 80) -> None:
    """Press Tab until the focused element is `label` inside `where` (a CSS selector)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "([where, label]) => { const el = document.activeElement;"
            " return Boolean(el.closest(where)) && el.textContent.trim() === label; }",
            [where, label],
        ):
            return
    raise AssertionError(f"Tab never reached {label!r} in {where}")


def test_the_keyboard_alone_is_enough(
    control_plane: ControlPlane, stack: Stack, users: Users, server: ServerProcess, browser: Browser
) -> None:
    plane, ns, name = control_plane, users.namespace, "ui-keys"
    create_via_api(server, users.admin, ns, name, prompt="Report", targetRef={"kind": "Agent",
                   "name": ECHO_AGENT})  # fmt: skip
    eventually(
        "accepted",
        lambda: (get_sr(plane, ns, name).json().get("status") or {}).get("cronJobName"),
    )
    tab = new_tab(browser)
    page = tab.page
    page.goto(f"{server.url}/ui/")
    expect(page.get_by_label("Kubernetes bearer token")).to_be_focused()
    page.keyboard.type(users.admin)
    page.keyboard.press("Enter")
    row = f"tr[data-name='{name}']"
    expect(page.locator(row)).to_be_visible()

    focus_by_tab(page, row, "Run now")
    page.keyboard.press("Enter")
    expect(page.locator(row)).to_contain_text("Succeeded", timeout=WAIT_MS)
    expect(page.locator(f"{row} [data-action=trigger]")).to_be_focused()  # kept across refresh

    focus_by_tab(page, row, "Delete")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#confirm")).to_be_hidden()

    page.keyboard.press("Shift+Tab")
    focus_by_tab(page, row, name)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    focus_by_tab(page, "#main", "Suspend")
    page.keyboard.press("Space")
    expect(page.locator(".badges")).to_contain_text("Suspended")
    assert get_sr(plane, ns, name).json()["spec"]["suspend"] is True
    assert tab.errors == []


def test_an_edit_outlives_status_writes_but_never_overwrites_a_spec_change(
    control_plane: ControlPlane, stack: Stack, users: Users, server: ServerProcess, browser: Browser
) -> None:
    plane, ns, name = control_plane, users.namespace, "ui-conflict"
    create_via_api(server, users.admin, ns, name, prompt="first")
    eventually(
        "accepted",
        lambda: (get_sr(plane, ns, name).json().get("status") or {}).get("cronJobName"),
    )
    tab = new_tab(browser)
    page = tab.page
    sign_in(page, server, users.admin, f"#/sr/{ns}/{name}/edit")
    expect(page.get_by_label("Prompt")).to_have_value("first")

    # A status write (as the runner makes on every run) while the form is open: saved anyway.
    status = '{"status":{"lastRunStatus":"Succeeded"}}'
    plane.kubectl("-n", ns, "patch", "sr", name, "--subresource=status", "--type=merge", "-p",
                  status)  # fmt: skip
    page.get_by_label("Prompt").fill("second")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("pre.prompt")).to_have_text("second")

    # Someone else changes the spec while the form is open: the save is refused, theirs stays.
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Prompt")).to_have_value("second")
    plane.kubectl("-n", ns, "patch", "sr", name, "--type=merge", "-p",
                  '{"spec":{"prompt":"from kubectl"}}')  # fmt: skip
    page.get_by_label("Prompt").fill("third")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#general-error")).to_contain_text("Someone changed this ScheduledRun")
    assert get_sr(plane, ns, name).json()["spec"]["prompt"] == "from kubectl"
    assert tab.errors == []
