"""REST API benchmark on the real control plane: listing ScheduledRuns through the API versus
straight from the apiserver.

Prints, for N ScheduledRuns (each with a run history, as a live cluster has them), the latency of
`GET /api/scheduledruns` (auth mode `client`, the caller's token) and of the same list straight
from the apiserver with the same token, side by side in one run, requests interleaved so both
see the same machine: p50 and p99 and their ratios (goal: at most 1.3); and the server's
resident memory (now and peak). The straight list is measured twice: in pages of 500 (what
`kubectl get` does, and what the server does) and in one request.

Then the memory bound under hostile load (issue 22, item 8): one tenant's namespace of
ScheduledRuns carrying 250 KB annotations each (10 MB), listed 50 times at once by that tenant,
and the N ScheduledRuns listed 200 times at once; the server's peak resident memory after each,
against the chart's memory limit for the server (the streamed lists and the bounded number of
them at once are what keep it there; the answers over a caller's share are 429).

Run: `uv run --frozen python -m bench.api_bench [--count 1000] [--rounds 60]`. It starts its own
control plane through devcluster (binaries from $SCHEDULEDRUN_BIN_DIR or build.sh).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from devcluster.accounts import namespace_user
from devcluster.cluster import ControlPlane, binaries
from devcluster.server import ServerProcess
from runner import api

CONCURRENCY = 16  # threads creating the objects
HISTORY = 5  # run-history entries per ScheduledRun
LIST_PAGE = 500  # kubectl's chunk size, and the server's
READ_ALL = [{"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": ["get", "list"]}]
BIG_ANNOTATION = 250_000  # bytes per ScheduledRun in the hostile tenant's namespace
BIG_COUNT = 40  # 40 x 250 KB = 10 MB
CROWD = 50  # callers of the 200 lists at once (each within its share of lists)
VALUES = Path(__file__).resolve().parents[1] / "charts" / "kagent-scheduledrun" / "values.yaml"


def sr_path(namespace: str | None) -> str:
    where = f"/namespaces/{namespace}" if namespace else ""
    return f"/apis/{api.GROUP}/{api.VERSION}{where}/{api.PLURAL}"


def scheduledrun(name: str) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": name, "labels": {"team": "benchmark"}},
        "spec": {
            "schedule": "0 0 1 1 *",
            "timeZone": "Europe/Berlin",
            "targetRef": {"kind": "Agent", "name": "helper"},
            "prompt": "Summarise yesterday's alerts and open an issue for each new one. " * 4,
        },
    }


def history(name: str) -> dict[str, Any]:
    entries = [
        {
            "id": f"{name}-{28000000 + i}",
            "trigger": "Scheduled",
            "scheduledTime": f"2026-01-0{i + 1}T00:00:00Z",
            "startTime": f"2026-01-0{i + 1}T00:00:02Z",
            "endTime": f"2026-01-0{i + 1}T00:01:40Z",
            "sessionID": str(uuid.UUID(int=i)),
            "taskID": str(uuid.UUID(int=i + 1000)),
            "status": "Succeeded",
            "message": "All alerts summarised; two new issues opened.",
        }
        for i in range(HISTORY)
    ]
    return {"status": {"runHistory": entries, "lastRunStatus": "Succeeded"}}


def populate(plane: ControlPlane, namespace: str, count: int) -> None:
    def one(client: httpx.Client, i: int) -> None:
        name = f"bench-{i:05d}"
        client.post(sr_path(namespace), json=scheduledrun(name)).raise_for_status()
        client.patch(
            f"{sr_path(namespace)}/{name}/status",
            json=history(name),
            headers={"Content-Type": "application/merge-patch+json"},
        ).raise_for_status()

    clients = [plane.client() for _ in range(CONCURRENCY)]
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        for future in [pool.submit(one, clients[i % CONCURRENCY], i) for i in range(count)]:
            future.result()
    for client in clients:
        client.close()


def straight(client: httpx.Client, paged: bool) -> int:
    """The list from the apiserver, decoded; the number of items."""
    params = {"limit": str(LIST_PAGE)} if paged else {}
    items = 0
    while True:
        page = client.get(sr_path(None), params=params)
        page.raise_for_status()
        body = page.json()
        items += len(body["items"])
        token = body["metadata"].get("continue")
        if not token:
            return items
        params["continue"] = token


def through_api(client: httpx.Client) -> int:
    response = client.get("/api/scheduledruns")
    response.raise_for_status()
    return len(response.json()["data"])


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process: resident memory now and at its peak."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
    return int(fields["VmRSS"]), int(fields["VmHWM"])


def chart_limit_mib() -> int:
    """The chart's memory limit for the server, in MiB."""
    limit = str(yaml.safe_load(VALUES.read_text())["server"]["resources"]["limits"]["memory"])
    assert limit.endswith("Mi"), limit
    return int(limit[:-2])


def populate_big(plane: ControlPlane, namespace: str) -> None:
    """BIG_COUNT ScheduledRuns, each with an annotation of BIG_ANNOTATION bytes."""
    with plane.client() as client:
        for i in range(BIG_COUNT):
            body = scheduledrun(f"big-{i:03d}")
            body["metadata"]["annotations"] = {"example.com/blob": "x" * BIG_ANNOTATION}
            client.post(sr_path(namespace), json=body, timeout=60).raise_for_status()


def storm(url: str, callers: list[dict[str, str]], lists: int) -> Counter[int]:
    """`lists` lists at once, spread over `callers` (their headers); how many got each status."""

    def one(i: int) -> int:
        with httpx.Client(headers=callers[i % len(callers)], timeout=300) as client:
            return client.get(url).status_code

    with concurrent.futures.ThreadPoolExecutor(lists) as pool:
        return Counter(pool.map(one, range(lists)))


def under_load(plane: ControlPlane, server: ServerProcess, namespace: str) -> None:
    big = f"bench-big-{uuid.uuid4().hex[:6]}"
    plane.kubectl("create", "namespace", big)
    populate_big(plane, big)
    tenant = namespace_user(plane, big, "tenant", READ_ALL)
    tenant_auth = {"Authorization": f"Bearer {tenant}"}
    _, before = memory_kb(server.pid())
    crowd = [
        {"Authorization": f"Bearer {namespace_user(plane, namespace, f'r{i}', READ_ALL)}"}
        for i in range(CROWD)
    ]
    tenant_answers = storm(f"{server.url}/api/scheduledruns?namespace={big}", [tenant_auth], 50)
    _, after_tenant = memory_kb(server.pid())
    listed = f"{server.url}/api/scheduledruns?namespace={namespace}"
    crowd_answers = storm(listed, crowd, 200)
    rss, after_crowd = memory_kb(server.pid())
    limit = chart_limit_mib()
    print(
        f"\nunder load (chart limit {limit} MiB), server peak RSS before: {before / 1024:.1f} MiB"
    )
    print(f"50 lists at once of one tenant's {BIG_COUNT * BIG_ANNOTATION / 1e6:.0f} MB namespace: "
          f"peak {after_tenant / 1024:.1f} MiB, answers {dict(tenant_answers)}")  # fmt: skip
    print(f"200 lists at once of the {namespace} namespace by {CROWD} callers: "
          f"peak {after_crowd / 1024:.1f} "
          f"MiB, answers {dict(crowd_answers)}; RSS after {rss / 1024:.1f} MiB")  # fmt: skip
    print(f"goal: peak within the chart's limit ({limit} MiB): "
          f"{'met' if after_crowd / 1024 < limit else 'NOT met'}")  # fmt: skip


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="ScheduledRuns to list")
    parser.add_argument("--rounds", type=int, default=60, help="timed lists of each kind")
    args = parser.parse_args()
    with ControlPlane(binaries()) as plane:
        namespace = f"bench-{uuid.uuid4().hex[:6]}"
        plane.kubectl("create", "namespace", namespace)
        began = time.monotonic()
        populate(plane, namespace, args.count)
        print(f"created {args.count} ScheduledRuns with {HISTORY} history entries each "
              f"in {time.monotonic() - began:.1f} s")  # fmt: skip
        token = namespace_user(plane, namespace, "reader", READ_ALL, cluster_wide=True)
        auth = {"Authorization": f"Bearer {token}"}
        server = ServerProcess(plane).start()
        try:
            run(plane, server, auth, args.count, args.rounds)
            under_load(plane, server, namespace)
        finally:
            server.stop()


def run(
    plane: ControlPlane, server: ServerProcess, auth: dict[str, str], count: int, rounds: int
) -> None:
    idle_rss, _ = memory_kb(server.pid())
    with (
        httpx.Client(base_url=plane.server, verify=str(plane.ca_file), headers=auth,
                     timeout=120) as direct,
        httpx.Client(base_url=server.url, headers=auth, timeout=120) as rest,
    ):  # fmt: skip
        kinds: dict[str, Callable[[], int]] = {
            "apiserver, pages of 500": lambda: straight(direct, paged=True),
            "apiserver, one request": lambda: straight(direct, paged=False),
            "REST API (client mode)": lambda: through_api(rest),
        }
        size = len(rest.get("/api/scheduledruns").content)
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for round_ in range(rounds + 3):
            for kind, call in kinds.items():  # interleaved: same machine state for each
                began = time.perf_counter()
                listed = call()
                took = time.perf_counter() - began
                assert listed == count, (kind, listed)
                if round_ >= 3:  # warm-up: connections, caches
                    times[kind].append(took)
    rss, peak = memory_kb(server.pid())
    base = times["apiserver, pages of 500"]
    print(f"\nlist of {count} ScheduledRuns ({size / 1e6:.2f} MB through the API), "
          f"{rounds} rounds, client side includes JSON decoding")  # fmt: skip
    print(f"{'':26} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}  p50 / p99 vs pages of 500")
    for kind, samples in times.items():
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        ratio = f"{p50 / percentile(base, 0.5):.2f}x / {p99 / percentile(base, 0.99):.2f}x"
        print(f"{kind:26} {p50 * 1e3:8.1f} {p99 * 1e3:8.1f} "
              f"{statistics.fmean(samples) * 1e3:8.1f}  {ratio}")  # fmt: skip
    print(f"\nserver RSS: {idle_rss / 1024:.1f} MiB idle after start, "
          f"{rss / 1024:.1f} MiB after the run, peak {peak / 1024:.1f} MiB")  # fmt: skip
    print(
        "goal: the API's list at most 1.3x the apiserver's (pages of 500, as kubectl and the "
        "server read it)"
    )


if __name__ == "__main__":
    main()
