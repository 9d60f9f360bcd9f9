"""Operator benchmark on the real control plane: the operator's speed and memory goals.

Prints:
- the time for N ScheduledRuns, created at once, to all be Accepted with their CronJobs, as a
  ratio to a plain client that creates N CronJobs and patches N statuses on the same control
  plane in the same run, with the same request concurrency (goal: at most 1.3); and as a ratio
  to a plain client that also creates the N ScheduledRuns in its timed part, as the burst's clock
  includes their creation (the same writes: a ScheduledRun, its CronJob, its status);
- the operator's CPU per ScheduledRun in the burst (goal: at most 2 ms);
- the operator's resident memory growth per ScheduledRun (goal: at most 10 KB);
- API writes and CPU seconds of the operator during an idle minute (goal: none);
- the operator's writes per ScheduledRun, for a burst of creations and for a catch-up in which
  each ScheduledRun also holds a `Pending` entry whose Job is gone (its sweep shares the one
  status write: goal 2 each, a CronJob and a status);
- a restart over the ScheduledRuns it left in step: how soon every one has been looked at, and
  its writes (goal: none);
- another team's CronJobs and Jobs in the operator's namespace, made and then edited once each:
  the operator's CPU, memory and requests meanwhile (goal: none of them reach it).

Run: `uv run --frozen python -m bench.operator_bench [--count 1000] [--idle 60]`. With
`--profile FILE`, only the burst runs, the operator under cProfile (slower, so its figures are
not the goals' figures), and it prints where the operator's time per ScheduledRun went: by part
(kopf, aiohttp, JSON, logging, the operator's own modules, asyncio) and the top functions (the
profile covers the whole process: start-up imports are a part of their own, waiting in epoll is
left out). It starts its own control plane through devcluster (binaries from
$SCHEDULEDRUN_BIN_DIR or build.sh).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pstats
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devcluster.cluster import ControlPlane, binaries
from devcluster.operator import OperatorProcess
from generator.cronjob import render
from generator.cronjob.config import OperatorConfig
from runner import api
from runner.conditions import ConditionType, Reason

CONCURRENCY = 16  # requests in flight from the plain client, and from the bench creating objects
# Never fires within the idle minute (only at midnight on January 1st): any write is the operator's.
SCHEDULE = "0 0 1 1 *"
WRITE_VERBS = {"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"}
OPERATOR_RESOURCES = {"scheduledruns", "cronjobs", "events", "serviceaccounts", "rolebindings"}


def sr_path(namespace: str) -> str:
    return f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{api.PLURAL}"


def scheduledrun(name: str) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {"name": name},
        "spec": {
            "schedule": SCHEDULE,
            "targetRef": {"kind": "Agent", "name": "helper"},
            "prompt": "Benchmark.",
        },
    }


def make_namespace(client: httpx.Client, name: str) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    client.post("/api/v1/namespaces", json=body).raise_for_status()
    agent = {"apiVersion": "kagent.dev/v1alpha2", "kind": "Agent", "metadata": {"name": "helper"}}
    path = f"/apis/kagent.dev/v1alpha2/namespaces/{name}/agents"
    client.post(path, json=agent).raise_for_status()


def in_parallel(
    plane: ControlPlane,
    work: Callable[[httpx.Client, int], None],
    n: int,
    threads: int = CONCURRENCY,
    timeout: float = 30,
) -> float:
    """Run work(client, i) for i < n on `threads` threads, one client each; seconds taken."""
    clients = [plane.client(timeout=timeout) for _ in range(threads)]
    began = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            futures = [pool.submit(work, clients[i % threads], i) for i in range(n)]
            for future in futures:
                future.result()
    finally:
        for client in clients:
            client.close()
    return time.monotonic() - began


def baseline(
    plane: ControlPlane, namespace: str, count: int, apply: bool = False, creating: bool = False
) -> float:
    """A plain client: create `count` CronJobs (POST, or server-side apply as the operator does
    when `apply`) and patch `count` statuses; the ScheduledRuns are made first, untimed, or with
    `creating`, each one timed right before its CronJob (the writes of the burst, whose clock
    runs from the first ScheduledRun's creation)."""
    with plane.client() as client:
        make_namespace(client, namespace)
    names = [f"sr-{i:05d}" for i in range(count)]
    created: list[dict[str, Any]] = [{} for _ in names]

    def create_sr(client: httpx.Client, i: int) -> None:
        response = client.post(sr_path(namespace), json=scheduledrun(names[i]))
        response.raise_for_status()
        created[i] = response.json()

    if not creating:
        in_parallel(plane, create_sr, count)  # set-up, not timed
    settings = OperatorConfig()

    def cronjob_and_status(client: httpx.Client, i: int) -> None:
        if creating:
            create_sr(client, i)
        cronjob = render.render_cronjob(created[i], settings)
        path = f"/apis/batch/v1/namespaces/{namespace}/cronjobs"
        if apply:
            client.patch(
                f"{path}/{cronjob['metadata']['name']}",
                params={"fieldManager": "bench", "force": "true"},
                json=cronjob,
                headers={"Content-Type": "application/apply-patch+yaml"},
            ).raise_for_status()
        else:
            client.post(path, json=cronjob).raise_for_status()
        condition = {
            "type": ConditionType.ACCEPTED,
            "status": "True",
            "reason": Reason.SCHEDULE_ACCEPTED,
            "message": "plain client",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
        status = {"status": {"conditions": [condition], "cronJobName": names[i]}}
        client.patch(
            f"{sr_path(namespace)}/{names[i]}/status",
            json=status,
            headers={"Content-Type": "application/merge-patch+json"},
        ).raise_for_status()

    return in_parallel(plane, cronjob_and_status, count)


def is_accepted(sr: dict[str, Any]) -> bool:
    status = sr.get("status") or {}
    conditions = status.get("conditions") or []
    return bool(status.get("cronJobName")) and any(
        c.get("type") == ConditionType.ACCEPTED and c.get("status") == "True" for c in conditions
    )


def all_accepted(client: httpx.Client, namespace: str, count: int) -> bool:
    items = client.get(sr_path(namespace)).json()["items"]
    if sum(1 for sr in items if is_accepted(sr)) < count:
        return False
    cronjobs = client.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs").json()["items"]
    return len(cronjobs) >= count


class AcceptedWatch(threading.Thread):
    """Watches a namespace's ScheduledRuns and notes when `count` of them are Accepted: a watch,
    not a polling list, so waiting adds no load to the apiserver the operator is measured on."""

    def __init__(self, plane: ControlPlane, namespace: str, count: int) -> None:
        super().__init__(daemon=True)
        self.plane, self.namespace, self.count = plane, namespace, count
        self.accepted: set[str] = set()
        self.done = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        with self.plane.client(timeout=None) as client:  # type: ignore[arg-type]
            listing = client.get(sr_path(self.namespace)).json()
            version = listing["metadata"]["resourceVersion"]
            params = {"watch": "1", "resourceVersion": version}
            with client.stream("GET", sr_path(self.namespace), params=params) as stream:
                self.ready.set()
                for line in stream.iter_lines():
                    event = json.loads(line)
                    if is_accepted(event["object"]):
                        self.accepted.add(event["object"]["metadata"]["name"])
                    if len(self.accepted) >= self.count:
                        self.done.set()
                        return


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def counter_sum(text: str, name: str, keep: Callable[[dict[str, str]], bool]) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and keep(sample.labels):
                total += sample.value
    return total


def apiserver_writes(plane: ControlPlane, resources: Iterable[str]) -> float:
    wanted = set(resources)
    with plane.client() as client:
        text = client.get("/metrics").text
    return counter_sum(
        text,
        "apiserver_request_total",
        lambda labels: labels.get("verb") in WRITE_VERBS and labels.get("resource") in wanted,
    )


def operator_requests(operator: OperatorProcess, writes: bool) -> float:
    return counter_sum(
        operator.metrics(),
        "kagent_scheduledrun_api_requests_total",
        lambda labels: (labels.get("verb") != "GET") == writes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--profile", type=Path, default=None, help="cProfile output file")
    args = parser.parse_args()
    count: int = args.count

    plane = ControlPlane(binaries())
    plane.start()
    try:
        if args.profile is not None:
            burst(plane, count, 0.0, args.profile)
            print(profile_summary(args.profile, count))
        else:
            run(plane, count, args.idle)
    finally:
        plane.stop()


# Where a function's own time goes, by the first matching part of its file name.
PARTS: Final = (
    ("kopf", "/kopf/"),
    ("aiohttp", "/aiohttp/"),
    ("json", "/json/"),
    ("logging", "/logging/"),
    ("operator's own", "/generator/"),
    ("runner (shared names)", "/runner/"),
    ("asyncio", "/asyncio/"),
)


WAITING: Final = "'poll' of 'select.epoll'"
STARTUP: Final = ("<built-in method builtins.compile>", "<built-in method builtins.exec>")


def profile_summary(path: Path, count: int, top: int = 15) -> str:
    """Own (not cumulative) time per ScheduledRun by part, then the top functions."""
    stats = pstats.Stats(str(path))
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    parts: dict[str, float] = {}
    total = 0.0
    for (filename, _, name), (_, _, own, _, _) in table.items():
        if WAITING in name:
            continue  # the event loop waiting for the network: not CPU
        part = next((part for part, marker in PARTS if marker in filename), "other")
        if name in STARTUP:
            part = "start-up (imports)"
        elif "_socket.socket" in name or "_ssl." in name or "/ssl.py" in filename:
            part = "sockets and TLS"
        parts[part] = parts.get(part, 0.0) + own
        total += own
    lines = [f"profiled: {total:.2f} s own time, {1000 * total / count:.2f} ms per ScheduledRun"]
    for part, seconds in sorted(parts.items(), key=lambda p: -p[1]):
        lines.append(
            f"  {part:22} {1000 * seconds / count:6.2f} ms per ScheduledRun "
            f"({100 * seconds / total:4.1f}%)"
        )
    busy = {k: v for k, v in table.items() if WAITING not in k[2]}
    ranked = sorted(busy.items(), key=lambda item: -item[1][2])[:top]
    lines.append(f"top {top} functions by own time:")
    for (filename, line, name), (_, calls, own, cumulative, _) in ranked:
        where = f"{Path(filename).name}:{line}({name})"
        lines.append(f"  {own:7.3f} s own {cumulative:7.3f} s cum {calls:7d} calls  {where}")
    return "\n".join(lines)


def create_many(plane: ControlPlane, namespace: str, count: int) -> float:
    def create_sr(client: httpx.Client, i: int) -> None:
        client.post(sr_path(namespace), json=scheduledrun(f"sr-{i:05d}")).raise_for_status()

    return in_parallel(plane, create_sr, count)


def wait_accepted(plane: ControlPlane, namespace: str, watch: AcceptedWatch, total: int) -> None:
    if not watch.done.wait(600):
        raise SystemExit(f"only {len(watch.accepted)} accepted after 10 minutes")
    with plane.client() as client:  # and their CronJobs exist (the status names them)
        while not all_accepted(client, namespace, total):
            time.sleep(0.5)


def writes_per_scheduledrun(requests: dict[str, float], count: int) -> str:
    """The operator's writes per ScheduledRun, besides the namespace's runner ServiceAccount and
    RoleBinding (two server-side applies per namespace, made once)."""
    writes = sum(v for k, v in requests.items() if k.split()[0] in WRITE_VERBS)
    return f"{(writes - 2) / count:.2f} writes per ScheduledRun ({writes:.0f} in all)"


def orphan_everyone(plane: ControlPlane, namespace: str, count: int) -> None:
    """Give each ScheduledRun a `Pending` entry whose Job never existed (as a runner whose Job
    was deleted leaves it)."""

    def write(client: httpx.Client, i: int) -> None:
        entry = {
            "id": f"sr-{i:05d}-gone",
            "trigger": "Manual",
            "status": "Pending",
            "scheduledTime": "2026-01-01T00:00:00Z",
            "startTime": "2026-01-01T00:00:01Z",
        }
        client.patch(
            f"{sr_path(namespace)}/sr-{i:05d}/status",
            json={"status": {"runHistory": [entry]}},
            headers={"Content-Type": "application/merge-patch+json"},
        ).raise_for_status()

    in_parallel(plane, write, count)


def none_pending(client: httpx.Client, namespace: str) -> bool:
    for sr in client.get(sr_path(namespace)).json()["items"]:
        entries = (sr.get("status") or {}).get("runHistory") or []
        if any(e.get("status") == "Pending" for e in entries):
            return False
    return True


def own_requests(operator: OperatorProcess) -> dict[str, float]:
    requests: dict[str, float] = {}
    for family in text_string_to_metric_families(operator.metrics()):
        for sample in family.samples:
            if sample.name == "kagent_scheduledrun_api_requests_total":
                verb_code = f"{sample.labels['verb']} {sample.labels['code']}"
                requests[verb_code] = requests.get(verb_code, 0) + sample.value
    return requests


def run(plane: ControlPlane, count: int, idle: float) -> None:
    # The machine is shared: the plain client runs before and after the operator phases, and the
    # ratios use the mean of the two, so a busy spell does not favour either side.
    before = baseline(plane, "bench-plain", count)
    print(f"plain client: {count} CronJobs created + {count} status patches in {before:.2f} s")
    applied = baseline(plane, "bench-plain-apply", count, apply=True)
    print(
        f"plain client: {count} CronJobs server-side applied + {count} patches in {applied:.2f} s"
    )
    creating_before = baseline(plane, "bench-plain-creating", count, creating=True)
    burst_time = burst(plane, count, idle)
    catch_up_time = catch_up(plane, count)
    restart(plane, "bench-catch-up", count)
    after = baseline(plane, "bench-plain-again", count)
    print(f"plain client again: {after:.2f} s")
    plain = (before + after) / 2
    creating = (
        creating_before + baseline(plane, "bench-plain-creating-again", count, True, True)
    ) / 2
    print(
        f"plain client with the creations: {count} ScheduledRuns + CronJobs + status patches in "
        f"{creating:.2f} s; burst ratio to it {burst_time / creating:.2f} (the same writes as the "
        "burst: its clock runs from the first creation)"
    )
    print(
        f"ratio to the plain client ({plain:.2f} s): burst {burst_time / plain:.2f}, "
        f"catch-up {catch_up_time / plain:.2f} (goal <= 1.3)"
    )


def burst(plane: ControlPlane, count: int, idle: float, profile: Path | None = None) -> float:
    """ScheduledRuns created at once while the operator runs; then its memory and an idle spell.
    With `profile`, the operator runs under cProfile and writes its statistics there."""
    namespace = "bench-operator"
    with plane.client() as client:
        make_namespace(client, namespace)
    operator = OperatorProcess(
        plane, "--namespace", namespace, "--log-level", "warning", profile=profile
    ).start()
    assert operator.process is not None
    pid = operator.process.pid
    try:
        # One ScheduledRun first, so every lazy import and connection exists before the baseline.
        with plane.client() as client:
            client.post(sr_path(namespace), json=scheduledrun("warm-up")).raise_for_status()
            while not all_accepted(client, namespace, 1):
                time.sleep(0.2)
        time.sleep(3)
        rss_before = rss_kb(pid)

        watch = AcceptedWatch(plane, namespace, count)
        watch.start()
        watch.ready.wait(30)
        cpu_start = cpu_seconds(pid)
        began = time.monotonic()
        created_in = create_many(plane, namespace, count)
        wait_accepted(plane, namespace, watch, count + 1)
        took = time.monotonic() - began
        burst_cpu = cpu_seconds(pid) - cpu_start
        requests = own_requests(operator)
        print(f"operator's own API requests (incl. warm-up): {requests}")
        print(f"burst: {writes_per_scheduledrun(requests, count + 1)}")
        print(
            f"burst: {count} ScheduledRuns created in {created_in:.2f} s (while the operator "
            f"runs), all Accepted with CronJobs after {took:.2f} s; operator CPU {burst_cpu:.2f} s,"
            f" {burst_cpu * 1000 / count:.2f} ms per ScheduledRun (goal <= 2 ms)"
        )

        time.sleep(10)  # let per-object workers exit and the burst's garbage be collected
        rss_after = rss_kb(pid)
        per_object = (rss_after - rss_before) * 1024 / count
        print(
            f"operator RSS: {rss_before} KB idle, {rss_after} KB with {count} ScheduledRuns: "
            f"{per_object / 1024:.1f} KB per ScheduledRun (goal <= 10 KB)"
        )

        writes_before = apiserver_writes(plane, OPERATOR_RESOURCES)
        own_writes_before = operator_requests(operator, writes=True)
        own_reads_before = operator_requests(operator, writes=False)
        cpu_before = cpu_seconds(pid)
        time.sleep(idle)
        cpu = cpu_seconds(pid) - cpu_before
        writes = apiserver_writes(plane, OPERATOR_RESOURCES) - writes_before
        own_writes = operator_requests(operator, writes=True) - own_writes_before
        own_reads = operator_requests(operator, writes=False) - own_reads_before
        print(
            f"idle {idle:.0f} s: apiserver writes to {sorted(OPERATOR_RESOURCES)}: {writes:.0f}; "
            f"operator's own writes {own_writes:.0f}, reads {own_reads:.0f}; "
            f"operator CPU {cpu:.2f} s (goal: no writes, no busy CPU)"
        )
        others(plane, operator, namespace, count)
        return took
    finally:
        operator.stop()
        operator.log.unlink(missing_ok=True)


def foreign_objects(namespace: str, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Another team's CronJob and Job (suspended: no pod), without the operator's label."""
    pod = {
        "restartPolicy": "Never",
        "containers": [{"name": "report", "image": "example.com/report:1", "args": ["run"]}],
    }
    labels = {"team": "reports"}
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": f"reports-{i:05d}", "namespace": namespace, "labels": labels},
        "spec": {
            "schedule": SCHEDULE,
            "suspend": True,
            "jobTemplate": {"spec": {"template": {"spec": pod}}},
        },
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"reports-{i:05d}", "namespace": namespace, "labels": labels},
        "spec": {"suspend": True, "template": {"spec": pod}},
    }
    return cronjob, job


def others(plane: ControlPlane, operator: OperatorProcess, namespace: str, count: int) -> None:
    """Another team makes `count` CronJobs and `count` Jobs in the operator's namespace, then
    edits each once: what that costs the operator (goal: nothing, they are not its own)."""
    assert operator.process is not None
    pid = operator.process.pid
    batch = f"/apis/batch/v1/namespaces/{namespace}"
    requests_before = sum(own_requests(operator).values())
    rss_before, cpu_before = rss_kb(pid), cpu_seconds(pid)

    def make(client: httpx.Client, i: int) -> None:
        cronjob, job = foreign_objects(namespace, i)
        client.post(f"{batch}/cronjobs", json=cronjob).raise_for_status()
        client.post(f"{batch}/jobs", json=job).raise_for_status()

    def edit(client: httpx.Client, i: int) -> None:
        note = {"metadata": {"annotations": {"reports.example.com/edited": "yes"}}}
        merge = {"Content-Type": "application/merge-patch+json"}
        for plural in ("cronjobs", "jobs"):
            path = f"{batch}/{plural}/reports-{i:05d}"
            client.patch(path, json=note, headers=merge).raise_for_status()

    made = in_parallel(plane, make, count)
    edited = in_parallel(plane, edit, count)
    time.sleep(5)  # the watch events of the last ones
    cpu = cpu_seconds(pid) - cpu_before
    grown = rss_kb(pid) - rss_before
    requests = sum(own_requests(operator).values()) - requests_before
    print(
        f"another team's {count} CronJobs and {count} Jobs in the namespace, made in {made:.2f} s"
        f" and each edited once in {edited:.2f} s: operator CPU {cpu:.2f} s, RSS {grown:+d} KB, "
        f"its own API requests {requests:.0f} (goal: none of it reaches the operator)"
    )
    with plane.client() as client:
        for plural in ("cronjobs", "jobs"):
            client.delete(f"{batch}/{plural}", params={"labelSelector": "team=reports"})
    # The Job controller's events about those Jobs trickle in at its client's rate: the later
    # phases count every write to events, so they start when none has come for a while.
    began = time.monotonic()
    events = apiserver_writes(plane, {"events"})
    while time.monotonic() - began < 180:
        time.sleep(5)
        events, before = apiserver_writes(plane, {"events"}), events
        if events == before:
            break
    print(f"(the Job controller's events about them drained in {time.monotonic() - began:.0f} s)")


def catch_up(plane: ControlPlane, count: int) -> float:
    """ScheduledRuns that exist before the operator starts: its own throughput, from launch."""
    namespace = "bench-catch-up"
    with plane.client() as client:
        make_namespace(client, namespace)
    create_many(plane, namespace, count)
    orphan_everyone(plane, namespace, count)
    watch = AcceptedWatch(plane, namespace, count)
    watch.start()
    watch.ready.wait(30)
    operator = OperatorProcess(plane, "--namespace", namespace, "--log-level", "warning")
    began = time.monotonic()
    operator.start()
    healthy = time.monotonic() - began
    try:
        wait_accepted(plane, namespace, watch, count)
        took = time.monotonic() - began
        with plane.client() as client:
            while not none_pending(client, namespace):
                time.sleep(0.5)
        time.sleep(3)  # the echoes of its own writes: they must cost nothing more
        requests = own_requests(operator)
        print(f"catch-up with orphans, operator's own API requests: {requests}")
        print(f"catch-up with orphans: {writes_per_scheduledrun(requests, count)}")
        assert operator.process is not None
        print(
            f"catch-up: {count} existing ScheduledRuns all Accepted with CronJobs {took:.2f} s "
            f"after the operator's launch ({healthy:.2f} s of it start-up); "
            f"RSS then {rss_kb(operator.process.pid)} KB"
        )
        return took
    finally:
        operator.stop()
        operator.log.unlink(missing_ok=True)


def restart(plane: ControlPlane, namespace: str, count: int, settle: float = 10.0) -> None:
    """The operator started again over `count` ScheduledRuns it left in step: how soon it has
    looked at every one (each has its interval gauge), and what that costs (goal: no writes)."""
    writes_before = apiserver_writes(plane, OPERATOR_RESOURCES)
    operator = OperatorProcess(plane, "--namespace", namespace, "--log-level", "warning")
    began = time.monotonic()
    operator.start()
    assert operator.process is not None
    try:
        while len(interval_series(operator.metrics())) < count:
            time.sleep(0.1)
        ready = time.monotonic() - began
        cpu = cpu_seconds(operator.process.pid)
        time.sleep(settle)
        writes = apiserver_writes(plane, OPERATOR_RESOURCES) - writes_before
        print(
            f"restart: {count} ScheduledRuns in step all looked at {ready:.2f} s after the "
            f"operator's launch (CPU {cpu:.2f} s incl. start-up); apiserver writes to "
            f"{sorted(OPERATOR_RESOURCES)} within {settle:.0f} s more: {writes:.0f} (goal: 0)"
        )
    finally:
        operator.stop()
        operator.log.unlink(missing_ok=True)


INTERVAL_GAUGE: Final = "kagent_scheduledrun_schedule_interval_seconds"


def interval_series(text: str) -> list[dict[str, str]]:
    return [
        sample.labels
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == INTERVAL_GAUGE
    ]


if __name__ == "__main__":
    main()
