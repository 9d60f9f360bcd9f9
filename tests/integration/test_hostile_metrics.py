"""The operator's /metrics against a stranger (issue 16, finding 5), with `scheduledrun operator
--metrics-secure` as a process on the real control plane: who may read the series (TokenReview and
SubjectAccessReview by the real API server), and the series of a deleted ScheduledRun going away.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devcluster.accounts import namespace_user
from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from runner.kube import scheduledrun_path
from runner.token_reviews import REVIEW_BURST, REVIEW_RATE
from tests.kube_helpers import (
    create,
    create_agent,
    scheduledrun,
    stamp,
    wait_condition,
    write_history,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]


@pytest.fixture
def secure_operator(control_plane: ControlPlane) -> Iterator[OperatorProcess]:
    process = OperatorProcess(control_plane, "--metrics-secure").start()
    yield process
    process.stop()
    process.log.unlink(missing_ok=True)


def scrape(process: OperatorProcess, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"http://127.0.0.1:{process.metrics_port}/metrics"
    return httpx.get(url, headers=headers, timeout=10)


def test_only_a_token_allowed_to_get_metrics_reads_them(
    control_plane: ControlPlane, namespace: str, secure_operator: OperatorProcess
) -> None:
    reader = namespace_user(
        control_plane,
        namespace,
        "prometheus",
        [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
        cluster_wide=True,
    )
    tenant = namespace_user(
        control_plane, namespace, "tenant", [{"apiGroups": ["kagent.dev"],
        "resources": ["scheduledruns"], "verbs": ["get", "list", "create"]}]
    )  # fmt: skip

    anonymous = scrape(secure_operator, None)
    forged = scrape(secure_operator, "not-a-token")
    stranger = scrape(secure_operator, tenant)
    allowed = scrape(secure_operator, reader)

    assert [r.status_code for r in (anonymous, forged, stranger, allowed)] == [401, 403, 403, 200]
    assert "kagent_scheduledrun_active_schedules" in allowed.text
    assert "kagent_scheduledrun" not in anonymous.text + forged.text + stranger.text


def test_a_flood_of_garbage_tokens_costs_a_bounded_number_of_reviews(
    control_plane: ControlPlane, namespace: str, secure_operator: OperatorProcess
) -> None:
    """Issue 22, item 12: each distinct garbage token cost a TokenReview, without end. Now the
    operator reviews at most its burst of unknown tokens (then 429 with Retry-After, no review),
    a garbage token repeated is answered from memory, and Prometheus' token, known before the
    flood, is still served."""
    reader = namespace_user(
        control_plane,
        namespace,
        "prometheus",
        [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
        cluster_wide=True,
    )
    assert scrape(secure_operator, reader).status_code == 200
    started = time.monotonic()
    with ThreadPoolExecutor(20) as pool:
        flood = list(
            pool.map(lambda _: scrape(secure_operator, f"g-{uuid.uuid4().hex}"), range(100))
        )
    took = time.monotonic() - started
    codes = [r.status_code for r in flood]
    reviewed = codes.count(403)
    # At most the bucket's burst and its refill while the flood lasted (runner.token_reviews:
    # 20, then 10 a second), not one review per token; the rest answered 429 without one.
    assert reviewed <= REVIEW_BURST + REVIEW_RATE * took + 1, (reviewed, took)
    assert codes.count(429) == 100 - reviewed
    assert all(r.headers["Retry-After"] for r in flood if r.status_code == 429)
    assert scrape(secure_operator, reader).status_code == 200


def test_the_series_of_a_deleted_scheduledrun_are_removed(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
) -> None:
    create_agent(kube, namespace, "helper")
    create(kube, namespace, scheduledrun("churned"))
    wait_condition(kube, namespace, "churned", "True", "ScheduleAccepted")
    start = datetime.now(UTC) + timedelta(seconds=2)
    write_history(kube, namespace, "churned", [{"id": "churned-1", "status": "Succeeded",
        "startTime": stamp(start), "endTime": stamp(start + timedelta(seconds=1))}])  # fmt: skip

    def listed() -> bool:
        return any(
            labels.get("name") == "churned" and labels.get("namespace") == namespace
            for family in text_string_to_metric_families(operator.metrics())
            for labels in (s.labels for s in family.samples)
        )

    eventually("the run counted", listed)
    assert kube.delete(scheduledrun_path(namespace, "churned")).status_code == 200
    eventually("its series gone", lambda: not listed())
