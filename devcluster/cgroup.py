"""A memory cgroup of a pod's size for one process tree: a container's memory limit without a
node, so a test can run `scheduledrun run` under the limit the chart gives runner pods and see
whether the kernel OOM-kills it, as the kubelet's cgroup would.

Both cgroup versions: v1 (`/sys/fs/cgroup/memory/...`, `memory.limit_in_bytes`) and v2
(`memory.max`). The group is made under the cgroup of the calling process, so it nests inside
whatever limits that process already has; `MemoryCgroup.command` wraps a command so that its
process enters the group before it execs (no `preexec_fn` in a threaded test process); `close`
kills what is left in the group and removes it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import yaml

ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str:
    """This process's cgroup path in the hierarchy of `controller` ("" for v2's unified one)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            return path
    raise RuntimeError(f"this process is in no cgroup of {controller or 'v2'}")


class MemoryCgroup:
    """A new cgroup limited to `limit` bytes of memory (no swap on these machines)."""

    def __init__(self, limit: int) -> None:
        name = f"scheduledrun-test-{uuid.uuid4().hex[:8]}"
        v1 = ROOT / "memory"
        if (v1 / "memory.limit_in_bytes").exists():
            self.version = 1
            self.path = v1 / _own_path("memory").lstrip("/") / name
            self.path.mkdir()
            (self.path / "memory.limit_in_bytes").write_text(str(limit))
        else:
            self.version = 2
            parent = ROOT / _own_path("").lstrip("/")
            if "memory" not in (parent / "cgroup.subtree_control").read_text().split():
                raise RuntimeError(f"the memory controller is not enabled below {parent}")
            self.path = parent / name
            self.path.mkdir()
            (self.path / "memory.max").write_text(str(limit))
        self.limit = limit

    def command(self, argv: list[str]) -> list[str]:
        """`argv`, run so that its process joins this cgroup first."""
        procs = self.path / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *argv]

    def oom_kills(self) -> int:
        """How many processes of the group the kernel killed for memory."""
        events = "memory.oom_control" if self.version == 1 else "memory.events"
        for line in (self.path / events).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def peak(self) -> int | None:
        """The group's peak memory use (bytes, page cache included), when the kernel keeps it."""
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        with contextlib.suppress(OSError, ValueError):
            return int((self.path / name).read_text())
        return None

    def close(self) -> None:
        for _ in range(50):
            pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        with contextlib.suppress(OSError):
            self.path.rmdir()


@contextlib.contextmanager
def memory_cgroup(limit: int) -> Iterator[MemoryCgroup]:
    group = MemoryCgroup(limit)
    try:
        yield group
    finally:
        group.close()


CHART_VALUES: Final = Path(__file__).resolve().parents[1] / "charts/kagent-scheduledrun/values.yaml"


def chart_memory_limit() -> int:
    """The operator container's memory limit in the chart's values, in bytes."""
    quantity = str(yaml.safe_load(CHART_VALUES.read_text())["resources"]["limits"]["memory"])
    units = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(quantity.removesuffix(suffix)) * factor
    return int(quantity)
