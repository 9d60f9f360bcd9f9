"""Real-pods benchmark: the images and the two pods on the development cluster's real node.

Prints:
- the size of each image and of its base (uncompressed layers; goal: the runner within 15 MB of
  its base);
- for N manual runs, the time from the bench creating the Job (`kubectl create job --from`
  equivalent) to the first HTTP request of that run at the agent, with a real runner container
  (scheduling, sandbox, container start, Python start, the runner's reads of its Job and
  ScheduledRun, then the A2A request), and to the run's terminal history entry;
- the operator pod's resident memory (VmRSS of its process, read inside the container).

Run as root: `uv run --frozen python -m bench.pods_bench [--runs 5]`. It starts its own control
plane and node through devcluster (binaries from $SCHEDULEDRUN_BIN_DIR or build.sh, images from
scripts/images.sh).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

from devcluster.cluster import ControlPlane, binaries, eventually
from devcluster.images import Images, build_images
from devcluster.node import Node
from devcluster.stack import RELEASE, RELEASE_NAMESPACE, Stack, sr_path
from runner import api

NAMESPACE = "bench"
MB = 1_000_000


def layer_sizes(archive: Path) -> dict[str, int]:
    """Uncompressed layer sizes of a docker-archive, by diff id (the layer files' names)."""
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        sizes = {}
        for layer in manifest[0]["Layers"]:
            digest = Path(layer).name.removesuffix(".tar")
            sizes[digest] = tar.getmember(layer).size
    return sizes


def base_diff_ids(base: str) -> set[str]:
    result = subprocess.run(
        ["buildah", "inspect", "--type", "image", base],
        capture_output=True,
        text=True,
        check=True,
    )
    rootfs = json.loads(result.stdout)["OCIv1"]["rootfs"]["diff_ids"]
    return {digest.removeprefix("sha256:") for digest in rootfs}


def image_sizes(images: Images) -> None:
    base = dict(
        line.split("=", 1)
        for line in (images.folder / "images.env").read_text().splitlines()
        if line
    )["base"]
    base_ids = base_diff_ids(base)
    for name, archive in (("operator", images.archives[0]), ("runner", images.archives[1])):
        sizes = layer_sizes(archive)
        total = sum(sizes.values())
        own = sum(size for digest, size in sizes.items() if digest not in base_ids)
        print(
            f"{name} image: {total / MB:.1f} MB, base {(total - own) / MB:.1f} MB ({base}), "
            f"own layers {own / MB:.1f} MB"
        )


def apply(plane: ControlPlane, obj: dict[str, Any]) -> None:
    plane.kubectl("apply", "-f", "-", input=json.dumps(obj))


def runs(plane: ControlPlane, stack: Stack, count: int) -> None:
    plane.kubectl("create", "namespace", NAMESPACE)
    apply(
        plane,
        {
            "apiVersion": api.API_VERSION,
            "kind": "Agent",
            "metadata": {"name": "echo-bench", "namespace": NAMESPACE},
            "spec": {},
        },
    )
    apply(
        plane,
        {
            "apiVersion": api.API_VERSION,
            "kind": api.KIND,
            "metadata": {"name": "bench", "namespace": NAMESPACE},
            "spec": {
                "schedule": "0 0 1 1 *",
                "suspend": True,
                "prompt": "ping",
                "targetRef": {"kind": "Agent", "name": "echo-bench"},
            },
        },
    )

    def cronjob() -> dict[str, Any] | None:
        with plane.client() as client:
            response = client.get(f"/apis/batch/v1/namespaces/{NAMESPACE}/cronjobs/bench")
        return response.json() if response.status_code == 200 else None

    template = eventually("the CronJob", cronjob, timeout=60)["spec"]["jobTemplate"]
    assert stack.agents is not None
    first_bytes: list[float] = []
    finished: list[float] = []
    for index in range(count):
        name = f"bench-{index}"
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "annotations": {api.ANNOTATION_INSTANTIATE: "manual"},
                "labels": template["metadata"].get("labels", {}),
                "ownerReferences": [],
            },
            "spec": template["spec"],
        }
        seen = len(stack.agents.requests)
        began = time.time()
        with plane.client() as client:
            client.post(f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs", json=job).raise_for_status()

        def new_requests(seen: int = seen) -> list[Any]:
            return stack.agents.requests[seen:] if stack.agents else []

        first = eventually(
            "the run's first request at the agent", new_requests, timeout=120, every=0.02
        )[0]
        first_bytes.append(first.at - began)

        def ended(job_name: str = name) -> bool:
            with plane.client() as client:
                status = client.get(sr_path(NAMESPACE, "bench")).json().get("status") or {}
            return any(
                e["id"] == job_name and e["status"] in api.TERMINAL_STATUSES
                for e in status.get("runHistory") or []
            )

        eventually("the run's terminal entry", ended, timeout=120, every=0.05)
        finished.append(time.time() - began)
        print(
            f"run {index}: Job created -> first request at the agent {first_bytes[-1]:.2f} s, "
            f"-> terminal history entry {finished[-1]:.2f} s"
        )
    print(
        f"median over {count}: first request {statistics.median(first_bytes):.2f} s, "
        f"terminal entry {statistics.median(finished):.2f} s"
    )


def operator_rss(plane: ControlPlane) -> None:
    script = "print([l for l in open('/proc/1/status') if l.startswith('VmRSS')][0].split()[1])"
    result = plane.kubectl(
        "-n", RELEASE_NAMESPACE, "exec", f"deployment/{RELEASE}", "--", "python", "-c", script
    )
    print(f"operator pod RSS (pid 1, idle after the runs): {int(result.stdout) / 1024:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    images = build_images()
    image_sizes(images)
    plane = ControlPlane(binaries())
    plane.start()
    node = Node(plane, images.archives)
    try:
        node.start()
        print(f"control plane {plane.started_seconds:.1f} s, node {node.started_seconds:.1f} s")
        with Stack(plane, node, images) as stack:
            runs(plane, stack, args.runs)
            operator_rss(plane)
    finally:
        node.stop()
        plane.stop()


if __name__ == "__main__":
    main()
