"""generator.operator.health_server on loopback: /healthz answers 200 or 503 with the verdict's
reason, and the probe notes each answer or error of the API server (the operator's API client,
generator/operator/kube.py, replaced by a fake here)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from devcluster.cluster import free_port
from generator.operator import health_server
from generator.operator.health import Liveness
from generator.operator.health_server import HealthServer
from runner.kube import KubeError


async def test_healthz_answers_the_verdict_with_its_reason() -> None:
    now = [100.0]
    liveness = Liveness(stale_after=30.0, last_word=100.0)
    server = HealthServer(liveness, "127.0.0.1", free_port(), clock=lambda: now[0])
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}/healthz"
        async with httpx.AsyncClient() as client:
            fresh = await client.get(url)
            now[0] = 140.0
            liveness.failed("Unreachable: GET /apis/kagent.dev/v1alpha1/scheduledruns: refused")
            stale = await client.get(url)
            liveness.heard(141.0)
            now[0] = 142.0
            again = await client.get(url)
    finally:
        await server.stop()

    assert (fresh.status_code, fresh.text) == (200, "ok: last word from the API server 0.0s ago\n")
    assert stale.status_code == 503
    assert stale.headers["Content-Type"].startswith("text/plain")
    assert stale.text == (
        "unhealthy: no watch event and no successful list from the API server for 40.0s"
        " (more than 30s); last error: Unreachable: GET /apis/kagent.dev/v1alpha1/scheduledruns:"
        " refused\n"
    )
    assert (again.status_code, again.text) == (200, "ok: last word from the API server 1.0s ago\n")


class FakeKube:
    """Answers each list from `answers` in turn: a dict, None (404), an error, or "hang"."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.asked: list[str | None] = []

    async def list_one_scheduledrun(self, namespace: str | None) -> dict[str, Any] | None:
        self.asked.append(namespace)
        answer = self.answers.pop(0) if self.answers else {"items": []}
        if answer == "hang":
            await asyncio.sleep(3600)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Noted(Liveness):
    """A Liveness that tells when the probe has noted `wanted` answers (word or error)."""

    def __init__(self, wanted: int) -> None:
        super().__init__(stale_after=0.3, last_word=0.0)  # a probe every 0.1 s
        self.notes: list[str] = []
        self.wanted = wanted
        self.enough = asyncio.Event()

    def heard(self, now: float) -> None:
        super().heard(now)
        self._note("heard")

    def failed(self, error: str) -> None:
        super().failed(error)
        self._note(error)

    def _note(self, what: str) -> None:
        self.notes.append(what)
        if len(self.notes) >= self.wanted:
            self.enough.set()


async def run_probes(kube: FakeKube, namespaces: tuple[str | None, ...], rounds: int) -> Noted:
    """Run the probe loop for `rounds` probes, with a clock that advances one second per
    reading, so each noted word is distinct."""
    ticks = iter(range(1, 10_000))
    liveness = Noted(rounds)
    task = asyncio.create_task(
        health_server.keep_probing(
            kube,  # type: ignore[arg-type]
            liveness,
            namespaces,
            clock=lambda: float(next(ticks)),
        )
    )
    try:
        await asyncio.wait_for(liveness.enough.wait(), timeout=10)
    finally:
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return liveness


async def test_a_successful_list_is_word_from_the_api_server() -> None:
    kube = FakeKube([{"items": []}])
    liveness = await run_probes(kube, ("team-a", "team-b"), rounds=1)
    assert kube.asked[:2] == ["team-a", "team-b"]  # each watched namespace
    assert liveness.notes == ["heard"]
    assert liveness.last_word > 0


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(
            KubeError(0, "Unreachable", "GET /x: ConnectionRefusedError()"),
            "Unreachable: GET /x: ConnectionRefusedError()",
            id="unreachable",
        ),
        pytest.param(
            KubeError(403, "Forbidden", "cannot list"), "403 Forbidden: cannot list", id="forbidden"
        ),
        pytest.param(None, "404 NotFound: the ScheduledRun API is not served", id="no such API"),
        pytest.param("hang", "no answer within 0.1s", id="no answer"),
        pytest.param(ValueError("not JSON"), "ValueError('not JSON')", id="not understood"),
    ],
)
async def test_a_failed_probe_notes_its_error_and_no_word(answer: Any, error: str) -> None:
    kube = FakeKube([answer])
    liveness = await run_probes(kube, (None,), rounds=1)
    assert liveness.notes == [error]
    assert liveness.last_word == 0.0
    assert not liveness.verdict(1.0).healthy


async def test_the_next_successful_list_makes_it_healthy_again() -> None:
    kube = FakeKube([KubeError(0, "Unreachable", "refused"), {"items": []}])
    liveness = await run_probes(kube, (None,), rounds=2)
    assert liveness.notes == ["Unreachable: refused", "heard"]
    assert liveness.last_error is None
    assert liveness.verdict(liveness.last_word).healthy
