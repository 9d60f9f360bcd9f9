"""`scheduledrun serve --auth-mode local` on the real control plane: the kubeconfig's
credentials make the calls (no token needed), it will not listen beyond loopback, and it answers
neither a request addressed to another host name (DNS rebinding) nor a cross-site write."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devcluster.cluster import ControlPlane
from devcluster.server import ServerProcess
from tests.integration.test_server_api import scheduledrun

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def local_server(control_plane: ControlPlane) -> Iterator[ServerProcess]:
    process = ServerProcess(control_plane, auth_mode="local").start()
    yield process
    process.stop()
    process.log.unlink(missing_ok=True)


def test_local_mode_acts_with_the_kubeconfig(
    control_plane: ControlPlane, local_server: ServerProcess, namespace: str
) -> None:
    with httpx.Client(base_url=f"{local_server.url}/api", timeout=30) as client:
        created = client.post("/scheduledruns", json=scheduledrun(namespace))
        assert created.status_code == 201, created.text
        listed = client.get("/scheduledruns", params={"namespace": namespace}).json()["data"]
    seen = control_plane.kubectl("-n", namespace, "get", "sr", "-o", "name").stdout.split()
    assert [f"scheduledrun.kagent.dev/{o['metadata']['name']}" for o in listed] == seen


def test_local_mode_refuses_other_host_names_and_cross_site_writes(
    local_server: ServerProcess, namespace: str
) -> None:
    with httpx.Client(base_url=f"{local_server.url}/api", timeout=30) as client:
        rebound = client.get("/scheduledruns", headers={"Host": "attacker.example"})
        cross_site = client.post(
            "/scheduledruns",
            json=scheduledrun(namespace),
            headers={"Origin": "https://attacker.example"},
        )
        same_site = client.get("/scheduledruns", params={"namespace": namespace})
    assert (rebound.status_code, cross_site.status_code, same_site.status_code) == (403, 403, 200)


def test_local_mode_will_not_listen_beyond_loopback(control_plane: ControlPlane) -> None:
    command = str(Path(sys.executable).with_name("scheduledrun"))
    result = subprocess.run(
        [command, "serve", "--auth-mode", "local", "--host", "0.0.0.0"],
        capture_output=True, text=True, env=control_plane.env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "loopback only" in result.stderr


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"Content-Type": "text/plain"}, 415, id="text-plain"),
        pytest.param(
            {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
            403,
            id="cross-site-without-origin",
        ),
        pytest.param(
            {"Content-Type": "application/json", "Origin": "https://127.0.0.1"},
            403,
            id="own-host-other-scheme",
        ),
    ],
)
def test_local_mode_refuses_what_a_page_on_another_site_could_send(
    control_plane: ControlPlane,
    local_server: ServerProcess,
    namespace: str,
    headers: dict[str, str],
    status: int,
) -> None:
    """Issue 22, item 11: in local mode (no token) a `text/plain` POST created a ScheduledRun;
    `Sec-Fetch-Site: cross-site` without an Origin, and an Origin differing only in its scheme,
    were accepted. Nothing is created."""
    origin = headers.get("Origin")
    if origin is not None:  # this server's own host and port, another scheme
        headers = {**headers, "Origin": f"{origin}:{local_server.port}"}
    body = json.dumps(scheduledrun(namespace))
    with httpx.Client(base_url=f"{local_server.url}/api", timeout=30) as client:
        response = client.post("/scheduledruns", content=body, headers=headers)
    assert response.status_code == status, response.text
    listed = control_plane.kubectl("-n", namespace, "get", "sr", "-o", "name").stdout.split()
    assert listed == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"user_id": "alice@kagent.dev"}, "alice@kagent.dev", id="kagents-user-id"),
        pytest.param({}, None, id="the-kubeconfigs-user"),
    ],
)
def test_local_mode_names_the_creator_kagents_ui_sends_else_the_kubeconfigs(
    control_plane: ControlPlane,
    local_server: ServerProcess,
    namespace: str,
    params: dict[str, str],
    expected: str | None,
) -> None:
    whoami = json.loads(control_plane.kubectl("auth", "whoami", "-o", "json").stdout)
    with httpx.Client(base_url=f"{local_server.url}/api", timeout=30) as client:
        created = client.post("/scheduledruns", json=scheduledrun(namespace), params=params)
    assert created.status_code == 201, created.text
    annotations = created.json()["data"]["metadata"]["annotations"]
    assert annotations["kagent.dev/created-by"] == (
        expected or whoami["status"]["userInfo"]["username"]
    )
