"""Capacity benchmark of Kubernetes' CronJob controller, the clock every ScheduledRun runs on.

N ScheduledRuns firing every minute (`* * * * *`, concurrency `Allow`) become N CronJobs, rendered
exactly as the operator renders them (generator/cronjob/render.py; without an owner reference, so
the operator need not run and only the controller is measured). No node runs their pods, so what
is measured is Job creation alone. For M whole minutes it prints, per tick, how many of the N Jobs
were made, and the start lag (the Job's creation minus its scheduled time) at the median, p90, p99
and max; then the same for every setting asked for, each on a fresh control plane:

- `default`: kube-controller-manager's defaults (`--concurrent-cron-job-syncs=5`,
  `--kube-api-qps=20`, `--kube-api-burst=30`);
- `tuned`: `--concurrent-cron-job-syncs=50 --kube-api-qps=300 --kube-api-burst=600`.

Each tick costs the controller two writes per CronJob (create the Job, update the CronJob's
`status.lastScheduleTime`), and with a shared client rate limit it falls behind when N is large;
when it does, it creates a Job for the most recent missed time only, and the other ticks never run.

Run: `uv run --frozen python -m bench.ticklag [--count 300] [--minutes 2] [--settings default
tuned]`. It starts its own control planes through devcluster.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from devcluster.cluster import ControlPlane, binaries
from generator.cronjob import render
from generator.cronjob.config import OperatorConfig
from runner import api, history

SETTINGS: dict[str, tuple[str, ...]] = {
    "default": (),
    "tuned": (
        "--concurrent-cron-job-syncs=50",
        "--kube-api-qps=300",
        "--kube-api-burst=600",
    ),
}
NAMESPACE = "ticklag"
CONCURRENCY = 16  # requests in flight while creating the CronJobs (set-up, not measured)
# After the last measured tick, how long a late Job may still appear: the controller catches up
# within a tick or gives that tick up for the next one.
GRACE = timedelta(seconds=60)
JOBS = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
CRONJOBS = f"/apis/batch/v1/namespaces/{NAMESPACE}/cronjobs"


@dataclass(frozen=True)
class Tick:
    at: datetime
    jobs: int
    lags: tuple[float, ...]


def scheduledrun(index: int) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": f"tick-{index:05d}", "namespace": NAMESPACE},
        "spec": {
            "schedule": "* * * * *",
            "concurrencyPolicy": "Allow",
            "targetRef": {"kind": "Agent", "name": "helper"},
            "prompt": "Capacity benchmark.",
        },
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def ticks_of(jobs: Sequence[Mapping[str, Any]], first: datetime, minutes: int) -> list[Tick]:
    """Jobs grouped by the tick they were made for (the controller's scheduled-time annotation),
    over the `minutes` ticks from `first`; lag: the Job's creation minus that tick."""
    by_tick: dict[datetime, list[float]] = {
        first + timedelta(minutes=i): [] for i in range(minutes)
    }
    for job in jobs:
        meta = job.get("metadata") or {}
        scheduled = history.parse_time(
            (meta.get("annotations") or {}).get(api.ANNOTATION_SCHEDULED_TIME)
        )
        created = history.parse_time(meta.get("creationTimestamp"))
        if scheduled in by_tick and created is not None:
            by_tick[scheduled].append((created - scheduled).total_seconds())
    return [Tick(at, len(lags), tuple(lags)) for at, lags in sorted(by_tick.items())]


def report(name: str, count: int, ticks: Sequence[Tick]) -> str:
    lines = [f"setting {name}: {count} CronJobs firing every minute, {len(ticks)} ticks"]
    for tick in ticks:
        lines.append(f"  tick {tick.at:%H:%M}: {tick.jobs}/{count} Jobs")
    made = sum(t.jobs for t in ticks)
    lags = [lag for t in ticks for lag in t.lags]
    wanted = count * len(ticks)
    lines.append(
        f"  Jobs made: {made}/{wanted} ({100 * made / wanted:.1f}%); missed {wanted - made}"
    )
    if lags:
        lines.append(
            f"  start lag s: median {statistics.median(lags):.0f}, p90 {percentile(lags, 0.9):.0f},"
            f" p99 {percentile(lags, 0.99):.0f}, max {max(lags):.0f}"
        )
    return "\n".join(lines)


def create_cronjobs(plane: ControlPlane, count: int) -> None:
    settings = OperatorConfig()
    with plane.client() as client:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        client.post("/api/v1/namespaces", json=body).raise_for_status()
    clients = [plane.client() for _ in range(CONCURRENCY)]

    def create(i: int) -> None:
        cronjob = render.render_cronjob(scheduledrun(i), settings)
        clients[i % CONCURRENCY].post(CRONJOBS, json=cronjob).raise_for_status()

    try:
        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            for future in [pool.submit(create, i) for i in range(count)]:
                future.result()
    finally:
        for client in clients:
            client.close()


def list_jobs(client: httpx.Client) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "500"}
    while True:
        page = client.get(JOBS, params=params)
        page.raise_for_status()
        document = page.json()
        jobs.extend(document["items"])
        token = document["metadata"].get("continue")
        if not token:
            return jobs
        params = {"limit": "500", "continue": token}


def measure(name: str, flags: Sequence[str], count: int, minutes: int) -> list[Tick]:
    plane = ControlPlane(binaries(), controller_manager_flags=flags)
    plane.start()
    try:
        create_cronjobs(plane, count)
        now = datetime.now(UTC)
        # The first whole minute after every CronJob exists, with a few seconds to spare.
        first = (now + timedelta(seconds=65)).replace(second=0, microsecond=0)
        end = first + timedelta(minutes=minutes - 1) + GRACE
        print(f"setting {name}: {count} CronJobs made; measuring ticks {first:%H:%M} on")
        time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()))
        with plane.client(timeout=120) as client:
            jobs = list_jobs(client)
        return ticks_of(jobs, first, minutes)
    finally:
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="CronJobs firing every minute")
    parser.add_argument("--minutes", type=int, default=2, help="ticks measured")
    parser.add_argument(
        "--settings", nargs="+", choices=sorted(SETTINGS), default=["default", "tuned"]
    )
    args = parser.parse_args()
    for name in args.settings:
        ticks = measure(name, SETTINGS[name], args.count, args.minutes)
        print(report(name, args.count, ticks), flush=True)


if __name__ == "__main__":
    main()
