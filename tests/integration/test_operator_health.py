"""Issue 22 §2: the operator's `/healthz` says whether it can do its job. On a control plane of
its own (its API server is stopped here, which the session's shared one must never be), with
`scheduledrun operator` as a process: healthy while it hears from the API server; 503 with the
reason within the threshold once the API server is gone (kopf's own endpoint said 200 all
along); healthy again once the API server is back, and reconciling again.

The threshold is set through the flag's environment fallback, `SCHEDULEDRUN_HEALTH_STALE_AFTER`,
so the same test runs (and fails) on an operator that has no such flag.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from devcluster.cluster import RESTRICTED_LABELS, ControlPlane, binaries, eventually
from devcluster.operator import OperatorProcess
from tests.kube_helpers import create, create_agent, scheduledrun, wait_condition

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

STALE_AFTER = 6.0  # seconds without word from the API server (the default is 30)
# The verdict turns STALE_AFTER after the last word (at most a probe interval, 2 s, before the
# stop); the rest is slack for a busy 2-core machine.
UNHEALTHY_WITHIN = STALE_AFTER + 10.0
# After the API server is ready again: the next probe (every 2 s) or watch event; generous.
HEALTHY_WITHIN = 30.0


@pytest.fixture
def plane() -> Iterator[ControlPlane]:
    """A control plane of this test's own: its API server is stopped and started again."""
    plane = ControlPlane(binaries())
    plane.start()  # stops what it started when it fails
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture
def operator(plane: ControlPlane) -> Iterator[OperatorProcess]:
    process = OperatorProcess(plane, env={"SCHEDULEDRUN_HEALTH_STALE_AFTER": f"{STALE_AFTER:g}"})
    try:
        yield process.start()
    finally:
        process.stop()
        if os.environ.get("SCHEDULEDRUN_KEEP_LOGS"):
            print(process.tail())
        process.log.unlink(missing_ok=True)


def healthz(operator: OperatorProcess) -> tuple[int, str] | None:
    """/healthz's status and text; None when the operator did not answer at all."""
    assert operator.process is not None
    if operator.process.poll() is not None:
        raise AssertionError(f"the operator exited:\n{operator.tail()}")
    try:
        response = httpx.get(f"http://127.0.0.1:{operator.health_port}/healthz", timeout=5)
    except httpx.HTTPError:
        return None
    return response.status_code, response.text


def make_namespace(kube: httpx.Client) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    metadata = {"name": name, "labels": RESTRICTED_LABELS}
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
    kube.post("/api/v1/namespaces", json=body).raise_for_status()
    return name


def test_healthz_fails_while_the_api_server_is_away_and_recovers_with_it(
    plane: ControlPlane, operator: OperatorProcess
) -> None:
    with plane.client() as kube:
        namespace = make_namespace(kube)
        create_agent(kube, namespace, "helper")
        create(kube, namespace, scheduledrun("before"))
        wait_condition(kube, namespace, "before", "True", "ScheduleAccepted")
    answer = healthz(operator)
    assert answer is not None
    assert answer[0] == 200, answer

    stopped = time.monotonic()
    plane.stop_apiserver()

    def failing() -> tuple[int, str] | None:
        answer = healthz(operator)
        return answer if answer is not None and answer[0] >= 300 else None

    status, reason = eventually("/healthz to fail", failing, timeout=UNHEALTHY_WITHIN, every=0.5)
    to_unhealthy = time.monotonic() - stopped
    print(f"/healthz {status} {to_unhealthy:.1f} s after the API server stopped: {reason!r}")
    assert status == 503
    assert reason.startswith("unhealthy: no watch event and no successful list from the API")
    assert "last error: Unreachable" in reason  # what the probe met, for a person to read
    time.sleep(STALE_AFTER)  # the outage goes on: the verdict stays
    answer = healthz(operator)
    assert answer is not None
    assert answer[0] == 503, answer

    plane.start_apiserver()
    ready = time.monotonic()

    def healthy() -> tuple[int, str] | None:
        answer = healthz(operator)
        return answer if answer is not None and answer[0] == 200 else None

    status, reason = eventually("/healthz to recover", healthy, timeout=HEALTHY_WITHIN, every=0.5)
    to_healthy = time.monotonic() - ready
    print(f"/healthz 200 {to_healthy:.1f} s after the API server was ready again: {reason!r}")
    assert reason.startswith("ok: last word from the API server")

    with plane.client() as kube:  # and the operator does its job again: watches and writes
        began = time.monotonic()
        create(kube, namespace, scheduledrun("after"))
        wait_condition(kube, namespace, "after", "True", "ScheduleAccepted")
        print(f"a new ScheduledRun Accepted {time.monotonic() - began:.1f} s after its creation")
