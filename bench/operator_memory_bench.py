"""Operator memory benchmark on the real control plane (issue 22): the operator's memory is bounded
by what it needs, not by what tenants store, and one namespace's flood cannot starve another's.

Prints, for N ScheduledRuns of the largest size the API server admits (256 KiB of annotations in
all, a 32 KiB prompt, 100 history entries with every field at its CRD maximum: about 0.8 MB each
as stored), made before the operator starts:
- the operator's first start: its cgroup's memory.peak and its peak RSS (VmHWM), and the time
  until all N are Accepted with their CronJobs;
- a restart with nothing changed: the same peaks until it is idle again, and its API writes
  (goal: none);
- fairness: while namespace A churns 1000 spec updates of 100 small ScheduledRuns, the time until
  one ScheduledRun created in namespace B is Accepted.
The chart's operator limit (charts/kagent-scheduledrun/values.yaml) is printed beside the peaks.

The operator runs in a memory cgroup four times the chart's limit, so the peaks are what it takes,
not what reclaim squeezed it into. etcd gets an 8 GiB quota: N such objects and their revisions
outgrow etcd's default 2 GiB.

Run: `uv run --frozen python -m bench.operator_memory_bench [--count 1000]`. It starts its own
control plane through devcluster (binaries from $SCHEDULEDRUN_BIN_DIR or build.sh).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path
from typing import Any, Final

import httpx

from bench.operator_bench import in_parallel, make_namespace, own_requests, sr_path
from devcluster.cgroup import MemoryCgroup, chart_memory_limit, memory_cgroup
from devcluster.cluster import ControlPlane, binaries
from devcluster.operator import OperatorProcess
from runner import api
from runner.conditions import ConditionType

SCHEDULE: Final = "0 0 1 1 *"  # never fires while the benchmark runs
ANNOTATIONS_MAX: Final = 256 * 1024  # the API server's limit on an object's annotations, in all
BLOB_KEY: Final = "example.com/blob"
PROMPT_MAX: Final = 32768  # the CRD's spec.prompt maxLength
HISTORY_MAX: Final = 100  # the CRD's status.runHistory maxItems
THREADS: Final = 8
CHURN: Final = 1000
CHURNED: Final = 100
WRITE_VERBS: Final = {"POST", "PUT", "PATCH", "DELETE"}


def largest(name: str) -> dict[str, Any]:
    """A ScheduledRun whose annotations and spec are as large as the API server admits."""
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {
            "name": name,
            "annotations": {BLOB_KEY: "x" * (ANNOTATIONS_MAX - len(BLOB_KEY))},
        },
        "spec": {
            "schedule": SCHEDULE,
            "targetRef": {"kind": "Agent", "name": "helper"},
            "prompt": "p" * PROMPT_MAX,
            "maxRunHistory": HISTORY_MAX,
        },
    }


def largest_history(name: str) -> list[dict[str, Any]]:
    """HISTORY_MAX finished entries, every field at its CRD maximum."""
    entries = []
    for i in range(HISTORY_MAX):
        entry_id = f"{name}-{i:04d}".ljust(63, "a")
        entries.append(
            {
                "id": entry_id,
                "trigger": "Scheduled",
                "scheduledTime": "2026-01-01T00:00:00Z",
                "startTime": "2026-01-01T00:00:01Z",
                "endTime": "2026-01-01T00:01:00Z",
                "sessionID": "s" * 256,
                "taskID": "t" * 256,
                "dispatchSeconds": 1.5,
                "traceID": "0" * 31 + "1",
                "status": "Succeeded",
                "message": "m" * 1024,
                "delivery": [
                    {
                        "name": f"d{k}".ljust(63, "d"),
                        "result": "Failed",
                        "attempts": 3,
                        "code": 500,
                        "error": "e" * 256,
                        "reason": "r" * 256,
                        "time": "2026-01-01T00:01:00Z",
                    }
                    for k in range(5)
                ],
            }
        )
    return entries


def create_largest(plane: ControlPlane, namespace: str, count: int) -> int:
    """`count` largest ScheduledRuns with their largest history; the stored size of one."""
    sizes: list[int] = []

    def create(client: httpx.Client, i: int) -> None:
        name = f"large-{i:04d}"
        client.post(sr_path(namespace), json=largest(name)).raise_for_status()
        patched = client.patch(
            f"{sr_path(namespace)}/{name}/status",
            json={"status": {"runHistory": largest_history(name)}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        patched.raise_for_status()
        if i == 0:
            sizes.append(len(patched.content))

    took = in_parallel(plane, create, count, THREADS, timeout=120)
    print(
        f"made {count} ScheduledRuns of {sizes[0] / 2**20:.2f} MiB each in {took:.0f} s", flush=True
    )
    return sizes[0]


def accepted(sr: dict[str, Any]) -> bool:
    return any(
        c.get("type") == ConditionType.ACCEPTED and c.get("status") == "True"
        for c in (sr.get("status") or {}).get("conditions") or []
    )


def accepted_count(client: httpx.Client, namespace: str) -> int:
    count, params = 0, {"limit": "20"}
    while True:
        page = client.get(sr_path(namespace), params=params, timeout=300).json()
        count += sum(1 for sr in page["items"] if accepted(sr))
        if not page["metadata"].get("continue"):
            return count
        params["continue"] = page["metadata"]["continue"]


def cronjobs(client: httpx.Client, namespace: str) -> int:
    return len(client.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs").json()["items"])


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


class Peaks:
    """The operator's peak RSS, sampled until stopped (VmHWM is gone once it exits)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            try:
                self.peak = max(self.peak, peak_rss_kb(self.pid))
            except OSError:
                return

    def done(self) -> int:
        self.stop.set()
        self.thread.join()
        return self.peak


def mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def start(plane: ControlPlane, group: MemoryCgroup) -> tuple[OperatorProcess, Peaks, float]:
    operator = OperatorProcess(plane, "--log-level", "warning", cgroup=group)
    began = time.monotonic()
    operator.start()
    assert operator.process is not None
    return operator, Peaks(operator.process.pid), began


def first_start(plane: ControlPlane, namespace: str, count: int, limit: int) -> None:
    with memory_cgroup(4 * limit) as group:
        operator, peaks, began = start(plane, group)
        try:
            with plane.client(timeout=300) as client:
                while cronjobs(client, namespace) < count:
                    time.sleep(1)
                while accepted_count(client, namespace) < count:
                    time.sleep(2)
            took = time.monotonic() - began
            rss = peaks.done()
        finally:
            operator.stop()
            operator.log.unlink(missing_ok=True)
        print(
            f"first start: all {count} Accepted with CronJobs {took:.0f} s after launch; "
            f"cgroup memory.peak {mib(group.peak() or 0)}, peak RSS {mib(rss * 1024)} "
            f"(chart limit {mib(limit)}), OOM kills {group.oom_kills()}",
            flush=True,
        )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def wait_idle(pid: int, least: float, most: float = 1200.0) -> float:
    """Seconds until the operator has been idle (under 0.2 s of CPU in 10 s), at least `least`."""
    began = time.monotonic()
    before = cpu_seconds(pid)
    while True:
        time.sleep(10)
        now = cpu_seconds(pid)
        elapsed = time.monotonic() - began
        if (now - before < 0.2 and elapsed >= least) or elapsed > most:
            return elapsed - 10
        before = now


def restart(plane: ControlPlane, limit: int, settle: float) -> None:
    with memory_cgroup(4 * limit) as group:
        operator, peaks, _ = start(plane, group)
        try:
            assert operator.process is not None
            took = wait_idle(operator.process.pid, settle)
            requests = own_requests(operator)
            rss = peaks.done()
        finally:
            operator.stop()
            operator.log.unlink(missing_ok=True)
        writes = sum(v for k, v in requests.items() if k.split()[0] in WRITE_VERBS)
        print(
            f"restart with nothing changed: idle {took:.0f} s after launch; cgroup memory.peak "
            f"{mib(group.peak() or 0)}, peak RSS {mib(rss * 1024)} (chart limit {mib(limit)}), "
            f"OOM kills {group.oom_kills()}; operator's writes {writes:.0f} (goal: none), its "
            f"requests {requests}",
            flush=True,
        )


def fairness(plane: ControlPlane) -> None:
    """B's one ScheduledRun while A churns CHURN spec updates of CHURNED ScheduledRuns."""
    a, b = "bench-churn-a", "bench-churn-b"
    with plane.client() as client:
        make_namespace(client, a)
        make_namespace(client, b)

    def small(name: str) -> dict[str, Any]:
        body = largest(name)
        body["metadata"].pop("annotations")
        body["spec"]["prompt"] = "Benchmark."
        return body

    def create(client: httpx.Client, i: int) -> None:
        client.post(sr_path(a), json=small(f"churn-{i:03d}")).raise_for_status()

    operator = OperatorProcess(plane, "--log-level", "warning").start()
    try:
        in_parallel(plane, create, CHURNED, THREADS, timeout=120)
        with plane.client() as client:
            while cronjobs(client, a) < CHURNED:
                time.sleep(0.5)
        made = [0]

        def churn(client: httpx.Client, i: int) -> None:
            client.patch(
                f"{sr_path(a)}/churn-{i % CHURNED:03d}",
                json={"spec": {"prompt": f"churn {i}"}},
                headers={"Content-Type": "application/merge-patch+json"},
            ).raise_for_status()
            made[0] += 1

        churner = threading.Thread(target=in_parallel, args=(plane, churn, CHURN), daemon=True)
        churner.start()
        while made[0] < CHURN // 4:
            time.sleep(0.05)
        with plane.client() as client:
            began = time.monotonic()
            client.post(sr_path(b), json=small("fair")).raise_for_status()
            while not accepted(client.get(f"{sr_path(b)}/fair").json()):
                time.sleep(0.05)
            waited = time.monotonic() - began
        churner.join()
        print(
            f"fairness: namespace B's ScheduledRun Accepted {waited:.2f} s after its creation "
            f"while namespace A churned {CHURN} spec updates of {CHURNED} ScheduledRuns"
        )
    finally:
        operator.stop()
        operator.log.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=30.0, help="least seconds after a restart")
    args = parser.parse_args()
    limit = chart_memory_limit()
    plane = ControlPlane(binaries(), etcd_flags=["--quota-backend-bytes=8589934592"])
    plane.start()
    try:
        namespace = "bench-memory"
        with plane.client() as client:
            make_namespace(client, namespace)
        create_largest(plane, namespace, args.count)
        first_start(plane, namespace, args.count, limit)
        restart(plane, limit, args.settle)
        fairness(plane)
    finally:
        plane.stop()


if __name__ == "__main__":
    main()
