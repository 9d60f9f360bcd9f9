"""The host settings a real node changes, and putting them back.

A kubelet and containerd change machine-wide state: kernel settings (the kubelet's
`vm.overcommit_memory`, `kernel.panic`, `kernel.panic_on_oops`; the bridge plugin's
`net.ipv4.ip_forward`), mounts (pod volumes, container root filesystems, network namespaces),
cgroups (`kubepods`), network links, nftables rules and a few fixed folders. `HostGuard` records
them before the node starts, writes the record to a file (so a run that was killed outright is
repaired by the next one), and restores everything on `restore()`. `snapshot()` is what the
suite's last test compares.

Only one real node runs on a machine at a time: `machine_lock()` serialises them, so two runs
never fight over the same sysctls or cgroups.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

RUN_DIR = Path("/run/kagent-scheduledrun")
LOCK_FILE = RUN_DIR / "node.lock"
RECORD_FILE = RUN_DIR / "host-settings.json"
# Our nftables tables and network links carry this prefix, so leftovers are recognisable.
PREFIX = "ksr"

# Kernel settings the kubelet (protectKernelDefaults: false) or the CNI bridge plugin may change.
SYSCTLS = (
    "vm.overcommit_memory",
    "kernel.panic",
    "kernel.panic_on_oops",
    "net.ipv4.ip_forward",
)
# Folders the kubelet, containerd and the CNI plugins create at fixed places (everything else
# is under the node's own state folder): removed again when they did not exist before.
FIXED_PATHS = (
    "/run/containerd",
    "/run/netns",
    "/var/lib/cni",
    "/var/log/pods",
    "/var/log/containers",
    "/var/lib/kubelet",
    "/etc/kubernetes",
)
CGROUP_ROOT = Path("/sys/fs/cgroup")
# The programs a node starts (directly, or containerd's shims): the only ones a repair may kill.
NODE_PROGRAMS = frozenset({"containerd", "containerd-shim-runc-v2", "kubelet", "kube-scheduler"})
KUBEPODS = "kubepods"


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def read_sysctl(name: str) -> str:
    return _sysctl_path(name).read_text().strip()


def write_sysctl(name: str, value: str) -> None:
    _sysctl_path(name).write_text(value)


def mount_points() -> list[str]:
    """Every mount point of this mount namespace, in mount order."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        points.append(line.split()[4].replace("\\040", " "))
    return points


def unmount_under(folder: Path) -> None:
    """Unmount everything mounted at or below folder, deepest first (lazily, so a busy one goes
    as soon as its last user does)."""
    prefix = str(folder).rstrip("/")
    for point in reversed(mount_points()):
        if point == prefix or point.startswith(prefix + "/"):
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def links() -> list[str]:
    result = subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, check=True
    )
    return sorted(line.split(":")[1].strip().split("@")[0] for line in result.stdout.splitlines())


def nft_ruleset() -> str:
    """The nftables rules, without packet counters (traffic changes those, not settings)."""
    result = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True, check=True)
    return re.sub(r"counter packets \d+ bytes \d+", "counter", result.stdout)


def nft_tables() -> list[str]:
    result = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True)
    return [line.removeprefix("table ").strip() for line in result.stdout.splitlines()]


def cgroup_dirs(name: str) -> list[Path]:
    """`name` in every cgroup hierarchy mounted under /sys/fs/cgroup (v1 controllers, v2)."""
    if not CGROUP_ROOT.is_dir():
        return []
    return sorted(path for path in CGROUP_ROOT.glob(f"*/{name}") if path.is_dir())


def remove_cgroup_tree(top: Path) -> None:
    """rmdir a cgroup and its children, deepest first (a cgroup with processes stays)."""
    for folder, _, _ in sorted(os.walk(top), key=lambda item: -item[0].count("/")):
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def kill_processes_using(folders: list[str]) -> None:
    """SIGKILL processes whose command line names one of a node's own folders: what a node
    started (containerd, its shims, the kubelet) and a killed run left running."""
    if not folders:
        return
    me = os.getpid()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == me:
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if Path(argv[0]).name not in NODE_PROGRAMS:
            continue
        if any(folder in arg for arg in argv for folder in folders):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(proc.name), signal.SIGKILL)


def snapshot() -> dict[str, Any]:
    """What a node may change on the host, as comparable data."""
    return {
        "sysctls": {name: read_sysctl(name) for name in SYSCTLS},
        "nftables": nft_ruleset(),
        # Not buildah's store: an image build elsewhere on the machine mounts there.
        "mounts": sorted({p for p in mount_points() if not p.startswith("/var/lib/containers/")}),
        "links": links(),
        "paths": {path: os.path.lexists(path) for path in FIXED_PATHS},
        "cgroups": [str(path) for path in cgroup_dirs(KUBEPODS)],
    }


@dataclass
class HostGuard:
    """Records the host settings before a node starts and puts them back afterwards."""

    sysctls: dict[str, str] = field(default_factory=dict)
    paths: dict[str, bool] = field(default_factory=dict)
    cgroups: list[str] = field(default_factory=list)
    # What this run made: folders to unmount below, links and nftables tables to delete.
    state_dirs: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    netns: list[str] = field(default_factory=list)

    @classmethod
    def record(cls) -> HostGuard:
        guard = cls(
            sysctls={name: read_sysctl(name) for name in SYSCTLS},
            paths={path: os.path.lexists(path) for path in FIXED_PATHS},
            cgroups=[str(path) for path in cgroup_dirs(KUBEPODS)],
        )
        guard.save()
        return guard

    def save(self) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        RECORD_FILE.write_text(json.dumps(self.__dict__))

    @classmethod
    def repair_leftovers(cls) -> None:
        """Restore what a killed earlier run recorded and could not put back."""
        if RECORD_FILE.exists():
            try:
                left = cls(**json.loads(RECORD_FILE.read_text()))
            except (ValueError, TypeError):
                RECORD_FILE.unlink()
                return
            left.restore()

    def restore(self) -> None:
        """Put back everything recorded; safe to call twice."""
        kill_processes_using(self.state_dirs)
        for name in self.netns:
            netns = Path("/run/netns") / name
            subprocess.run(["umount", "-l", str(netns)], capture_output=True, check=False)
            with contextlib.suppress(OSError):
                netns.unlink()
        for folder in self.state_dirs:
            unmount_under(Path(folder))
            if folder.startswith(f"{RUN_DIR}/"):  # the node's sockets: nothing else lives there
                shutil.rmtree(folder, ignore_errors=True)
        for table in self.tables:
            subprocess.run(["nft", "delete", "table", table], capture_output=True, check=False)
        present = set(links())
        for link in self.links:
            if link in present:
                subprocess.run(["ip", "link", "delete", link], capture_output=True, check=False)
        for cgroup in cgroup_dirs(KUBEPODS):
            if str(cgroup) not in self.cgroups:
                remove_cgroup_tree(cgroup)
        for fixed, existed in self.paths.items():
            if not existed and os.path.lexists(fixed):
                unmount_under(Path(fixed))
                shutil.rmtree(fixed, ignore_errors=True)
        for name, value in self.sysctls.items():
            if read_sysctl(name) != value:
                write_sysctl(name, value)
        with contextlib.suppress(FileNotFoundError):
            RECORD_FILE.unlink()


@contextlib.contextmanager
def machine_lock() -> Iterator[IO[str]]:
    """Hold the machine's one-node lock (waits while another run's node is up)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with LOCK_FILE.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
