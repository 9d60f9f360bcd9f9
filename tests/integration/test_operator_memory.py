"""The operator's memory is bounded by what it needs, not by what tenants store (issue 22 item 1),
and one namespace's flood cannot starve another's reconciles, on the real control plane with
`scheduledrun operator` as a process.

- One tenant's 300 ScheduledRuns, each with ~250 KB of annotations (the API server admits 256 KiB
  in all), exist when the operator starts in a memory cgroup of the chart's operator limit
  (charts/kagent-scheduledrun/values.yaml `resources.limits.memory`): it is not OOM-killed, its
  cgroup's peak stays under the limit, all 300 are Accepted, and a ScheduledRun created in another
  namespace meanwhile is Accepted too.
- While namespace A churns 1000 spec updates of its ScheduledRuns, one ScheduledRun created in
  namespace B is Accepted within a few seconds.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devcluster.cgroup import chart_memory_limit, memory_cgroup
from devcluster.cluster import ControlPlane, eventually
from devcluster.operator import OperatorProcess
from runner.kube import scheduledruns_path
from tests.kube_helpers import accepted, create, create_agent, patch_spec, scheduledrun

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

TENANT_OBJECTS = 300
ANNOTATION_BYTES = 250_000  # the API server admits 256 KiB of annotations per object in all
CHURN = 1000  # spec updates in namespace A while namespace B's one ScheduledRun waits
CHURNED = 100  # ScheduledRuns in namespace A the churn updates in turn
FAIR_WITHIN = 5.0  # seconds: B's ScheduledRun is Accepted within this while A churns
WAIT = 300.0  # a busy 2-core machine: the 300 large objects are read and reconciled within this


def in_parallel(plane: ControlPlane, work: Callable[[httpx.Client, int], None], n: int) -> None:
    clients = [plane.client(timeout=120) for _ in range(4)]
    try:
        with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
            futures = [pool.submit(work, clients[i % len(clients)], i) for i in range(n)]
            for future in futures:
                future.result()
    finally:
        for client in clients:
            client.close()


def is_accepted(sr: dict[str, Any]) -> bool:
    condition = accepted(sr)
    return condition is not None and condition["status"] == "True"


def accepted_count(kube: httpx.Client, namespace: str) -> int:
    """How many ScheduledRuns of `namespace` are Accepted, read in small pages."""
    count, params = 0, {"limit": "20"}
    while True:
        page = kube.get(scheduledruns_path(namespace), params=params, timeout=120).json()
        count += sum(1 for sr in page["items"] if is_accepted(sr))
        token = page["metadata"].get("continue")
        if not token:
            return count
        params["continue"] = token


def cronjob_count(kube: httpx.Client, namespace: str) -> int:
    path = f"/apis/batch/v1/namespaces/{namespace}/cronjobs"
    return len(kube.get(path).json()["items"])


def test_a_tenants_large_objects_do_not_outgrow_the_operators_limit(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    other_namespace: str,
) -> None:
    limit = chart_memory_limit()
    create_agent(kube, namespace, "helper")
    create_agent(kube, other_namespace, "helper")
    blob = "x" * ANNOTATION_BYTES

    def create_large(client: httpx.Client, i: int) -> None:
        body = scheduledrun(f"large-{i:03d}", schedule="0 0 1 1 *")
        body["metadata"]["annotations"] = {"example.com/blob": blob}
        response = client.post(scheduledruns_path(namespace), json=body)
        assert response.status_code == 201, response.text[:500]

    in_parallel(control_plane, create_large, TENANT_OBJECTS)

    with memory_cgroup(limit) as pod:
        operator = OperatorProcess(control_plane, "--log-level", "warning", cgroup=pod)
        try:
            try:
                operator.start()
            except AssertionError as exc:  # it died while starting: say how
                code = operator.process.returncode if operator.process else None
                raise AssertionError(f"exit {code}, OOM kills {pod.oom_kills()}: {exc}") from exc
            began = time.monotonic()
            create(kube, other_namespace, scheduledrun("other", schedule="0 0 1 1 *"))

            def alive() -> None:
                assert operator.process is not None
                exited = operator.process.poll()
                assert exited is None, (
                    f"operator exited {exited} (OOM kills: {pod.oom_kills()}):\n{operator.tail()}"
                )

            def other_accepted() -> bool:
                alive()
                got = kube.get(scheduledruns_path(other_namespace) + "/other").json()
                return is_accepted(got)

            eventually("the other namespace's ScheduledRun Accepted", other_accepted, WAIT, 0.2)
            other_after = time.monotonic() - began

            def all_cronjobs() -> bool:
                alive()
                return cronjob_count(kube, namespace) >= TENANT_OBJECTS

            eventually(f"{TENANT_OBJECTS} CronJobs", all_cronjobs, WAIT, 1.0)

            def all_accepted() -> bool:
                return accepted_count(kube, namespace) >= TENANT_OBJECTS

            eventually(f"{TENANT_OBJECTS} ScheduledRuns Accepted", all_accepted, WAIT, 2.0)
            took = time.monotonic() - began
            assert operator.process is not None
            assert operator.process.poll() is None
        finally:
            operator.stop()
            print(f"operator log (tail):\n{operator.tail(20)}")
            operator.log.unlink(missing_ok=True)
        peak = pod.peak()
        oom_kills = pod.oom_kills()
    print(
        f"{TENANT_OBJECTS} ScheduledRuns with {ANNOTATION_BYTES} B of annotations each: "
        f"cgroup peak {None if peak is None else peak // 2**20} MiB of {limit // 2**20} MiB, "
        f"OOM kills {oom_kills}; all Accepted {took:.1f} s after start; the other namespace's "
        f"{other_after:.1f} s"
    )
    assert oom_kills == 0
    assert peak is not None
    assert peak < limit


def test_a_namespaces_churn_does_not_starve_another_namespace(
    control_plane: ControlPlane,
    kube: httpx.Client,
    namespace: str,
    other_namespace: str,
    operator: OperatorProcess,
) -> None:
    create_agent(kube, namespace, "helper")
    create_agent(kube, other_namespace, "helper")

    def create_small(client: httpx.Client, i: int) -> None:
        body = scheduledrun(f"churn-{i:03d}", schedule="0 0 1 1 *")
        response = client.post(scheduledruns_path(namespace), json=body)
        assert response.status_code == 201, response.text

    in_parallel(control_plane, create_small, CHURNED)
    eventually(f"{CHURNED} CronJobs", lambda: cronjob_count(kube, namespace) >= CHURNED, 120, 0.5)

    stop = threading.Event()
    done = [0]

    def churn(client: httpx.Client, offset: int) -> None:
        i = offset
        while i < CHURN and not stop.is_set():
            patch_spec(client, namespace, f"churn-{i % CHURNED:03d}", {"prompt": f"churn {i}"})
            done[0] += 1
            i += 4

    clients = [control_plane.client() for _ in range(4)]
    churners = [threading.Thread(target=churn, args=(c, n)) for n, c in enumerate(clients)]
    try:
        for thread in churners:
            thread.start()
        while done[0] < CHURN // 4:  # the flood is under way
            time.sleep(0.05)
        began = time.monotonic()
        create(kube, other_namespace, scheduledrun("fair", schedule="0 0 1 1 *"))

        def fair_accepted() -> bool:
            return is_accepted(kube.get(scheduledruns_path(other_namespace) + "/fair").json())

        eventually("namespace B's ScheduledRun Accepted", fair_accepted, 120, 0.05)
        waited = time.monotonic() - began
        churned = done[0]
    finally:
        stop.set()
        for thread in churners:
            thread.join(timeout=60)
        for client in clients:
            client.close()
    print(
        f"namespace B's ScheduledRun Accepted {waited:.2f} s after its creation, while namespace"
        f" A churned ({churned} of {CHURN} updates made by then)"
    )
    assert waited < FAIR_WITHIN
