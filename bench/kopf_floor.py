"""The floor under the operator's CPU per ScheduledRun: what receiving its watch events costs
before the operator does anything with them.

A burst of N ScheduledRuns brings the operator three watch events each: the ScheduledRun's
creation, the echo of its status write, and its CronJob's creation. This benchmark makes exactly
those objects and writes (a ScheduledRun, its rendered CronJob with the operator's label, one
status patch) while a listener that does nothing with the events runs, and prints the listener's
CPU per ScheduledRun, for two listeners:
- `kopf`: kopf with event handlers that return at once, configured as the operator configures it
  (generator/operator/kopf_settings.py: orjson stream decoding, label selectors, no diff base) and
  on uvloop, as the operator runs: kopf's own cost per event, the part no handler can save;
- `stream`: two watch streams read and decoded with orjson on the same aiohttp and uvloop, no
  framework: the cost of the bytes themselves (TLS, HTTP chunks, JSON).
And the CPU of the operator's two writes per ScheduledRun alone (its CronJob's creation and one
status patch) through the operator's own client (generator/operator/kube.py) on uvloop, the
ScheduledRuns made beforehand. Compare their sum with `bench/operator_bench.py`'s CPU per
ScheduledRun (goal: 2 ms).

Run: `uv run --frozen python -m bench.kopf_floor [--count 1000]`. It starts its own control plane
through devcluster (binaries from $SCHEDULEDRUN_BIN_DIR or build.sh); each listener is a child
process of this one (`--listen KIND NAMESPACE FILE`), dying with it, and so is the writing
client (`--listen writes NAMESPACE FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

import aiohttp
import kopf
import orjson
import uvloop

from bench.operator_bench import baseline, cpu_seconds, create_many, make_namespace
from devcluster.children import die_with_parent
from devcluster.cluster import ControlPlane, binaries
from generator.cronjob import render
from generator.cronjob.config import OperatorConfig
from generator.operator import kopf_settings
from generator.operator.controller import WORKERS
from generator.operator.kube import Kube, _load_configuration, _ssl_context
from generator.operator.metrics import Metrics
from runner import api
from runner.conditions import ConditionType, Reason

LISTENERS: Final = ("kopf", "stream")
API: Final = f"{api.GROUP}/{api.VERSION}"
EVENTS_PER_SCHEDULEDRUN: Final = 3  # its creation, its status patch, its CronJob's creation


class Seen:
    """Events received, written to a file for the benchmark to read (no API of its own)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def one(self) -> None:
        self.count += 1

    async def publish(self) -> None:
        written = -1
        while True:
            if self.count != written:
                self.path.write_text(str(self.count))
                written = self.count
            await asyncio.sleep(0.2)


def listen_with_kopf(namespace: str, seen: Seen) -> None:
    @kopf.on.startup()
    async def start(*, settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
        kopf_settings.configure(settings)
        memo.publishing = asyncio.create_task(seen.publish())

    @kopf.on.event(api.GROUP, api.VERSION, api.PLURAL)
    async def scheduledrun(**_: Any) -> None:
        seen.one()

    @kopf.on.event("batch", "v1", "cronjobs")
    async def cronjob(**_: Any) -> None:
        seen.one()

    loop = uvloop.new_event_loop()
    kopf.run(loop=loop, namespaces=[namespace], standalone=True)


async def listen_to_streams(namespace: str, seen: Seen) -> None:
    configuration = _load_configuration()
    token = configuration.get_api_key_with_prefix("authorization")
    headers = {"Authorization": token} if token else {}
    connector = aiohttp.TCPConnector(ssl=_ssl_context(configuration))
    timeout = aiohttp.ClientTimeout(total=None)
    paths = (
        f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{api.PLURAL}",
        f"/apis/batch/v1/namespaces/{namespace}/cronjobs",
    )
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def watch(path: str, selector: str | None) -> None:
            params = {"watch": "true", "timeoutSeconds": "3600"}
            if selector:
                params["labelSelector"] = selector
            url = configuration.host + path
            async with session.get(url, params=params, headers=headers) as response:
                response.raise_for_status()
                async for line in response.content:
                    if line.strip():
                        orjson.loads(line)
                        seen.one()

        await asyncio.gather(
            watch(paths[0], None), watch(paths[1], api.LABEL_SCHEDULEDRUN), seen.publish()
        )


def listen(kind: str, namespace: str, path: Path) -> None:
    logging.basicConfig(level=logging.WARNING)
    seen = Seen(path)
    if kind == "kopf":
        listen_with_kopf(namespace, seen)
    elif kind == "writes":
        path.write_text(str(uvloop.run(write_as_the_operator(namespace))))
    else:
        uvloop.run(listen_to_streams(namespace, seen))


def count_of(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def measure(plane: ControlPlane, kind: str, count: int) -> float:
    """CPU seconds of the `kind` listener while `count` ScheduledRuns get their three events."""
    namespace = f"floor-{kind}"  # made by `baseline`: the listener watches it before it exists
    seen_file = Path(plane.state_dir) / f"{namespace}.seen"
    argv = [sys.executable, "-m", "bench.kopf_floor", "--listen", kind, namespace, str(seen_file)]
    child = subprocess.Popen(
        argv,
        env={**plane.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent(os.getpid()),
    )
    try:
        plane.wait_for("the listener", lambda: seen_file.exists(), timeout=60)
        time.sleep(3)  # its watches open
        cpu_before = cpu_seconds(child.pid)
        took = baseline(plane, namespace, count, creating=True)
        want = count * EVENTS_PER_SCHEDULEDRUN
        plane.wait_for(f"{want} events", lambda: count_of(seen_file) >= want, timeout=300)
        cpu = cpu_seconds(child.pid) - cpu_before
        print(
            f"{kind}: {count} ScheduledRuns made with their CronJobs and status patches in "
            f"{took:.2f} s; the listener saw {count_of(seen_file)} events, CPU {cpu:.2f} s, "
            f"{cpu * 1000 / count:.2f} ms per ScheduledRun"
        )
        return cpu
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def write_as_the_operator(namespace: str) -> float:
    """CPU seconds of this process for a CronJob and a status patch per ScheduledRun of
    `namespace` (listed first, untimed), through the operator's client, as many at once as the
    operator's workers."""
    kube = await Kube.connect(Metrics().api_requests)
    gate = asyncio.Semaphore(WORKERS)
    settings = OperatorConfig()

    async def one(body: dict[str, Any]) -> None:
        async with gate:
            cronjob = render.render_cronjob(body, settings)
            await kube.create_cronjob(cronjob)
            condition = {
                "type": ConditionType.ACCEPTED,
                "status": "True",
                "reason": Reason.SCHEDULE_ACCEPTED,
                "message": "the operator's client",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
            status = {"conditions": [condition], "cronJobName": cronjob["metadata"]["name"]}
            await kube.patch_status(namespace, body["metadata"]["name"], {"status": status})

    try:
        bodies = [
            item async for page in kube.list_pages(API, api.PLURAL, namespace) for item in page
        ]
        began = time.process_time()
        await asyncio.gather(*(one(body) for body in bodies))
        return time.process_time() - began
    finally:
        await kube.close()


def measure_writes(plane: ControlPlane, count: int) -> float:
    """CPU seconds of the operator's client alone for its two writes per ScheduledRun."""
    namespace = "floor-writes"
    with plane.client() as client:
        make_namespace(client, namespace)
    create_many(plane, namespace, count)
    result = Path(plane.state_dir) / "writes.cpu"
    argv = [sys.executable, "-m", "bench.kopf_floor", "--listen", "writes", namespace, str(result)]
    subprocess.run(
        argv, env={**plane.env}, check=True, timeout=300, preexec_fn=die_with_parent(os.getpid())
    )
    cpu = float(result.read_text())
    print(
        f"the operator's client alone: {count} CronJobs and {count} status patches, CPU "
        f"{cpu:.2f} s, {cpu * 1000 / count:.2f} ms per ScheduledRun (the render included)"
    )
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--listen", nargs=3, metavar=("KIND", "NAMESPACE", "FILE"))
    args = parser.parse_args()
    if args.listen:
        kind, namespace, path = args.listen
        listen(kind, namespace, Path(path))
        return
    plane = ControlPlane(binaries())
    plane.start()
    try:
        floors = {kind: measure(plane, kind, args.count) for kind in LISTENERS}
        writes = measure_writes(plane, args.count)
        print(
            f"floor per ScheduledRun: kopf's three events + the two writes = "
            f"{(floors['kopf'] + writes) * 1000 / args.count:.2f} ms; bare streams + the two "
            f"writes = {(floors['stream'] + writes) * 1000 / args.count:.2f} ms"
        )
    finally:
        plane.stop()


if __name__ == "__main__":
    main()
