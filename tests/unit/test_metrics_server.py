"""generator.operator.metrics_server on loopback: who gets /metrics when secure serving is on. The
API server's answer (TokenReview + SubjectAccessReview, generator/operator/kube.py) is replaced by a
function of the token here; the real reviews are tests/integration/test_hostile_metrics.py's."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter

from devcluster.cluster import free_port
from devcluster.pki import generate
from generator.operator.metrics_server import Decisions, MetricsServer, bearer_token


async def test_only_an_authorized_token_reads_the_metrics() -> None:
    registry = CollectorRegistry()
    Counter("kagent_scheduledrun_probe", "a series", ["name"], registry=registry).labels("x").inc()
    asked: list[str] = []

    async def authorize(token: str) -> bool:
        asked.append(token)
        return token == "reader"

    server = MetricsServer(registry, "127.0.0.1", free_port(), authorize)
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        async with httpx.AsyncClient() as client:
            anonymous = await client.get(url)
            stranger = await client.get(url, headers={"Authorization": "Bearer stranger"})
            reader = await client.get(url, headers={"Authorization": "Bearer reader"})
            again = await client.get(url, headers={"Authorization": "Bearer reader"})
    finally:
        await server.stop()

    assert [r.status_code for r in (anonymous, stranger, reader, again)] == [401, 403, 200, 200]
    assert "kagent_scheduledrun_probe_total" in reader.text
    assert "probe" not in anonymous.text + stranger.text
    assert asked == ["stranger", "reader"]  # the second scrape is answered from memory


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer abc", "abc"), ("Basic abc", None), ("Bearer ", None)],
)
def test_bearer_token(header: str, token: str | None) -> None:
    assert bearer_token(header) == token


def test_decisions_expire() -> None:
    now = [0.0]
    decisions = Decisions(clock=lambda: now[0])
    decisions.put("t", True)
    now[0] = 61.0
    assert decisions.get("t") is None


async def test_with_a_certificate_folder_it_speaks_https(tmp_path: Path) -> None:
    pki = generate(tmp_path / "pki")
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(pki.serving.cert, certs / "tls.crt")
    shutil.copy(pki.serving.key, certs / "tls.key")

    async def authorize(token: str) -> bool:
        return token == "reader"

    server = MetricsServer(CollectorRegistry(), "127.0.0.1", free_port(), authorize, certs)
    await server.start()
    try:
        context = ssl.create_default_context(cafile=str(pki.ca.cert))
        async with httpx.AsyncClient(verify=context) as client:
            url = f"https://127.0.0.1:{server.port}/metrics"
            anonymous = await client.get(url)
            reader = await client.get(url, headers={"Authorization": "Bearer reader"})
    finally:
        await server.stop()

    assert (anonymous.status_code, reader.status_code) == (401, 200)
