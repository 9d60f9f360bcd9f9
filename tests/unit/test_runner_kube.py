"""runner.kube: where the runner's Kubernetes credentials come from, and status-write errors.

Credentials are read from files written here (a service-account folder, kubeconfigs in YAML and
JSON, with files or inline data); the conflict-retrying write itself is exercised through whole
runs in test_runner_run.py and against the real apiserver in the integration tests.
"""

from __future__ import annotations

import base64
import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from devcluster import pki
from runner import api
from runner.kube import ConfigError, Credentials, KubeClient, KubeError, load_credentials


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    return pki.generate(tmp_path_factory.mktemp("pki"))


def service_account_folder(folder: Path, certs: pki.Pki) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "token").write_text("sa-token\n")
    (folder / "ca.crt").write_bytes(certs.ca.cert.read_bytes())
    return folder


@pytest.mark.parametrize(
    ("host", "server"),
    [
        pytest.param("10.0.0.1", "https://10.0.0.1:443", id="ipv4"),
        pytest.param("fd00::1", "https://[fd00::1]:443", id="ipv6"),
    ],
)
def test_in_a_pod_the_service_account_is_used_before_any_kubeconfig(
    tmp_path: Path, certs: pki.Pki, host: str, server: str
) -> None:
    folder = service_account_folder(tmp_path / "sa", certs)
    env = {
        api.ENV_SERVICEACCOUNT_DIR: str(folder),
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBECONFIG": str(tmp_path / "ignored"),
    }
    found = load_credentials(env)
    assert (found.server, found.token) == (server, "sa-token")
    assert found.ssl_context.verify_mode == ssl.CERT_REQUIRED


def kubeconfig(user: dict[str, Any], cluster: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "ctx",
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443/", **cluster}}],
        "users": [{"name": "u", "user": user}],
    }


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.mark.parametrize(
    ("shape", "dump"),
    [
        pytest.param("files", yaml.safe_dump, id="yaml-with-relative-files"),
        pytest.param("inline", yaml.safe_dump, id="yaml-with-inline-data"),
        pytest.param("inline", json.dumps, id="json"),
    ],
)
def test_kubeconfig_with_a_client_certificate(
    tmp_path: Path, certs: pki.Pki, shape: str, dump: Any
) -> None:
    if shape == "files":
        for source in (certs.ca.cert, certs.admin.cert, certs.admin.key):
            (tmp_path / source.name).write_bytes(source.read_bytes())
        user = {"client-certificate": certs.admin.cert.name, "client-key": certs.admin.key.name}
        cluster = {"certificate-authority": certs.ca.cert.name}
    else:
        user = {
            "client-certificate-data": b64(certs.admin.cert),
            "client-key-data": b64(certs.admin.key),
        }
        cluster = {"certificate-authority-data": b64(certs.ca.cert)}
    path = tmp_path / "config"
    path.write_text(dump(kubeconfig(user, cluster)))
    found = load_credentials({"KUBECONFIG": str(path)})
    assert (found.server, found.token) == ("https://127.0.0.1:6443", None)
    assert len(found.ssl_context.get_ca_certs()) == 1


def test_kubeconfig_with_a_token_and_no_tls_verification(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(kubeconfig({"token": "t0k"}, {"insecure-skip-tls-verify": True}))
    )
    found = load_credentials({"KUBECONFIG": str(path)})
    assert (found.token, found.ssl_context.verify_mode) == ("t0k", ssl.CERT_NONE)


@pytest.mark.parametrize(
    ("document", "words"),
    [
        pytest.param(
            {**kubeconfig({}, {}), "current-context": "other"},
            "no context named 'other'",
            id="no-context",
        ),
        pytest.param({**kubeconfig({}, {}), "users": []}, "no user named 'u'", id="no-user"),
        pytest.param(["not", "a", "mapping"], "is not a mapping", id="not-a-mapping"),
    ],
)
def test_bad_kubeconfig_says_what_is_wrong(tmp_path: Path, document: Any, words: str) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=words):
        load_credentials({"KUBECONFIG": str(path)})


def test_no_credentials_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="no Kubernetes credentials"):
        load_credentials({api.ENV_SERVICEACCOUNT_DIR: str(tmp_path / "none")})


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        pytest.param(
            403,
            {"message": "forbidden: cannot patch"},
            "^403 Forbidden: PATCH /apis/.*/sr/status: forbidden: cannot patch$",
            id="forbidden",
        ),
        pytest.param(
            422,
            {"reason": "Invalid", "message": "runHistory: Too many"},
            "^422 Invalid: PATCH /apis/.*/sr/status: runHistory: Too many$",
            id="invalid",
        ),
    ],
)
def test_status_write_errors_other_than_conflict_are_not_retried(
    status: int, body: dict[str, Any], words: str
) -> None:
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "GET":
            return httpx.Response(200, json={"metadata": {"resourceVersion": "7"}, "status": {}})
        return httpx.Response(status, json=body)

    client = KubeClient(
        Credentials("https://kube.test", ssl.create_default_context()),
        transport=httpx.MockTransport(handle),
    )
    with pytest.raises(KubeError, match=words) as caught:
        client.update_status("ns", "sr", lambda status: {"lastRunStatus": "Pending"})
    assert (caught.value.status, calls) == (status, ["GET", "PATCH"])
