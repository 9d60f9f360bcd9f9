"""generator.operator.metrics_server on loopback: who gets /metrics when secure serving is on. The
API server's answer (TokenReview + SubjectAccessReview, generator/operator/kube.py) is replaced by a
function of the token here; the real reviews are tests/integration/test_hostile_metrics.py's."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Counter

from devcluster.cluster import free_port
from devcluster.pki import generate
from generator.operator.metrics_server import MetricsServer
from runner.token_reviews import TokenReviews


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


async def test_a_flood_of_garbage_tokens_costs_a_bounded_number_of_reviews() -> None:
    """Issue 22, item 12: each distinct garbage token cost one TokenReview. Now the reviews of
    unknown tokens stop at the bucket's burst (429 beyond it, with Retry-After), and the token
    Prometheus scrapes with, remembered before the flood, is still served."""
    registry = CollectorRegistry()
    asked: list[str] = []

    async def authorize(token: str) -> bool:
        asked.append(token)
        return token == "reader"

    server = MetricsServer(
        registry, "127.0.0.1", free_port(), authorize, reviews=TokenReviews(clock=lambda: 0.0)
    )
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        async with httpx.AsyncClient() as client:
            first = await client.get(url, headers={"Authorization": "Bearer reader"})
            flood = [
                await client.get(url, headers={"Authorization": f"Bearer garbage-{i}"})
                for i in range(100)
            ]
            again = await client.get(url, headers={"Authorization": "Bearer reader"})
            repeated = await client.get(url, headers={"Authorization": "Bearer garbage-0"})
    finally:
        await server.stop()

    codes = [r.status_code for r in flood]
    assert (first.status_code, again.status_code) == (200, 200)
    assert len(asked) == 20  # the reader once, then the burst's other 19: not 101
    assert codes == [403] * 19 + [429] * 81
    assert flood[-1].headers["Retry-After"] == "1"
    assert repeated.status_code == 403  # remembered as refused: no review


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
