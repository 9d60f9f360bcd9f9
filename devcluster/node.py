"""A real node for the development cluster: containerd + runc, a bridge network, the kubelet and
kube-scheduler (built from the same k8s.io/kubernetes module as the API server).

Everything lives under the control plane's state folder (containerd's root and state, the
kubelet's root, CNI config, IPAM leases, pod logs); what cannot (sysctls, mounts, cgroups, the
bridge, nftables rules, a few fixed folders) is recorded by `HostGuard` and put back by `stop()`.

Networking within the machine's rule (packets go to loopback or into namespaces this run made):
pods live in network namespaces on a bridge the node creates; they have no default route, only
the pod subnet and the service range via the bridge. nftables rules of the node's own table
DNAT the `kubernetes` Service address (10.0.0.1:443) and any port given to `forward()` on the
bridge's address to the same port on 127.0.0.1 (the bridge has `route_localnet`), and drop
everything else the host would forward from or to the bridge. Each rule is read back before a
pod can use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import random
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import httpx
import yaml

from devcluster import host, pki
from devcluster.cluster import (
    SERVICE_CLUSTER_IP_RANGE,
    Component,
    ControlPlane,
    ControlPlaneError,
    free_port,
)

HERE = Path(__file__).resolve().parent
PAUSE_SCRIPT = HERE / "pause.sh"
CNI_BIN_DIR = "/usr/lib/cni"  # Debian's containernetworking-plugins
RUNC = shutil.which("runc") or "/usr/sbin/runc"
NETWORK_NAME = "kagent-scheduledrun"
READY_TIMEOUT = 120.0
# Pod subnets are taken from here (a /24 no host route overlaps).
POD_SUBNET_POOL = ipaddress.IPv4Network("10.240.0.0/12")


class NodeError(ControlPlaneError):
    """The node failed to start; the message carries the component's log tail."""


def run(*argv: str, check: bool = True, input: str | None = None) -> str:
    result = subprocess.run(list(argv), capture_output=True, text=True, input=input, check=False)
    if check and result.returncode != 0:
        raise NodeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def pick_subnet() -> ipaddress.IPv4Network:
    """A /24 from the pool that no route of the host overlaps."""
    routes = []
    for line in run("ip", "-4", "route", "show", "table", "all").splitlines():
        first = line.split()[0] if line.split() else ""
        if first in ("local", "broadcast"):
            first = line.split()[1]
        with contextlib.suppress(ValueError):
            routes.append(ipaddress.ip_network(first if first != "default" else "0.0.0.0/32"))
    candidates = list(POD_SUBNET_POOL.subnets(new_prefix=24))
    random.shuffle(candidates)
    for subnet in candidates:
        if not any(subnet.overlaps(route) for route in routes if route.prefixlen > 0):
            return subnet
    raise NodeError(f"no free /24 in {POD_SUBNET_POOL}")


def containerd_config(folder: Path, sockets: Path, pause_image: str) -> str:
    """containerd's config: everything below folder (its sockets and runc's state below the
    short folder `sockets`: a unix socket path has at most 107 bytes), CRI with runc, the local
    pause image."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{folder}/root"
state = "{folder}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{sockets}/containerd.sock"
[ttrpc]
  address = "{sockets}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{folder}/opt"
[{cri}]
  sandbox_image = "{pause_image}"
  # Root here lacks CAP_SYS_RESOURCE: CRI's oom_score_adj of -998 for the sandbox would fail.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[{cri}.containerd.runtimes.runc.options]
  BinaryName = "{RUNC}"
  Root = "{sockets}/runc"
  SystemdCgroup = false
[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{folder}/cni"
  max_conf_num = 1
"""


def cni_config(bridge: str, subnet: ipaddress.IPv4Network, ipam_dir: Path) -> dict[str, Any]:
    """A bridge network without masquerading and without a default route: pods reach their
    subnet and the service range (through the bridge's address, where DNAT takes over)."""
    gateway = str(subnet.network_address + 1)
    return {
        "cniVersion": "1.0.0",
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "isDefaultGateway": False,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "dataDir": str(ipam_dir),
                    "ranges": [[{"subnet": str(subnet), "gateway": gateway}]],
                    "routes": [{"dst": SERVICE_CLUSTER_IP_RANGE, "gw": gateway}],
                },
            }
        ],
    }


def kubelet_config(node: Node) -> dict[str, Any]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node.gateway,
        "port": node.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": node.kubelet_healthz_port,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(node.plane.ca_file)},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "containerRuntimeEndpoint": f"unix://{node.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "failSwapOn": False,
        "makeIPTablesUtilChains": False,
        "protectKernelDefaults": False,
        "clusterDomain": "cluster.local",
        "staticPodPath": "",
        "podLogsDirectory": str(node.folder / "pod-logs"),
        "resolvConf": "/etc/resolv.conf",
        # Images are imported, never pulled: nothing may garbage-collect them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "1Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "serializeImagePulls": False,
        "syncFrequency": "10s",
        "nodeStatusUpdateFrequency": "5s",
        "shutdownGracePeriod": "0s",
    }


def scheduler_config(kubeconfig: Path) -> dict[str, Any]:
    return {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "leaderElection": {"leaderElect": False},
    }


class Node:
    """containerd + kubelet + kube-scheduler for one ControlPlane; `images` are docker-archive
    files imported into containerd (pods use them with imagePullPolicy Never/IfNotPresent)."""

    def __init__(self, plane: ControlPlane, images: Sequence[Path] = ()) -> None:
        self.plane = plane
        self.images = list(images)
        self.folder = plane.state_dir / "node"
        self.name = pki.NODE_NAME
        self.components: list[Component] = []
        self.guard: host.HostGuard | None = None
        self._lock: IO[str] | None = None
        tag = f"{random.randrange(16**6):06x}"
        self.bridge = f"{host.PREFIX}{tag}"
        self.table = f"ip {host.PREFIX}_{tag}"
        self.sockets = host.RUN_DIR / tag
        self.subnet: ipaddress.IPv4Network | None = None
        self.kubelet_port = 0
        self.kubelet_healthz_port = 0
        self.forwarded: list[int] = []
        self.started_seconds = 0.0

    # ---- what users of the node need --------------------------------------------------------
    @property
    def gateway(self) -> str:
        """The bridge's address: pods reach a forwarded loopback port at this address."""
        assert self.subnet is not None
        return str(self.subnet.network_address + 1)

    @property
    def containerd_socket(self) -> Path:
        return self.sockets / "containerd.sock"

    def ctr(self, *args: str, check: bool = True) -> str:
        return run(
            "ctr", "--address", str(self.containerd_socket), "-n", "k8s.io", *args, check=check
        )

    def forward(self, port: int) -> str:
        """Let pods reach 127.0.0.1:port at gateway:port; returns "gateway:port" once the rule is
        in place (read back from the kernel)."""
        rule = (
            f'iifname "{self.bridge}" ip daddr {self.gateway} tcp dport {port} '
            f"dnat to 127.0.0.1:{port}"
        )
        run("nft", "add", "rule", *self.table.split(), "prerouting", rule)
        self._check_rule(f"tcp dport {port} dnat to 127.0.0.1:{port}")
        self.forwarded.append(port)
        return f"{self.gateway}:{port}"

    # ---- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> Node:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        began = time.monotonic()
        host.RUN_DIR.mkdir(parents=True, exist_ok=True)
        self._lock = host.LOCK_FILE.open("a+")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            host.HostGuard.repair_leftovers()
            self.guard = host.HostGuard.record()
            self._start()
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.monotonic() - began

    def _start(self) -> None:
        assert self.guard is not None
        for binary in ("kubelet", "kube-scheduler"):
            if not (self.plane.bin_dir / binary).exists():
                raise NodeError(f"{binary} is missing from {self.plane.bin_dir}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(parents=True, exist_ok=True)
        self.guard.state_dirs += [str(self.folder), str(self.sockets)]
        self.guard.save()
        self._network()
        self._containerd()
        self._kubelet()
        self._scheduler()
        self.plane.wait_for(f"node {self.name} Ready", self._ready, timeout=READY_TIMEOUT)

    def _network(self) -> None:
        assert self.guard is not None
        self.subnet = pick_subnet()
        self.guard.links.append(self.bridge)
        self.guard.tables.append(self.table)
        self.guard.save()
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        # A per-interface setting: it goes away with the bridge.
        host.write_sysctl(f"net.ipv4.conf.{self.bridge}.route_localnet", "1")
        service = pki.KUBERNETES_SERVICE_IP
        ruleset = f"""
table {self.table} {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "{self.bridge}" ip daddr {service} tcp dport 443 dnat to 127.0.0.1:{self.plane.port}
  }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
    iifname "{self.bridge}" drop
    oifname "{self.bridge}" drop
  }}
}}
"""
        run("nft", "-f", "-", input=ruleset)
        self._check_rule(f"tcp dport 443 dnat to 127.0.0.1:{self.plane.port}")
        self._check_rule(f'iifname "{self.bridge}" drop')
        cni_dir = self.folder / "containerd" / "cni"
        cni_dir.mkdir(parents=True, exist_ok=True)
        config = cni_config(self.bridge, self.subnet, self.folder / "ipam")
        (cni_dir / "10-kagent-scheduledrun.conflist").write_text(json.dumps(config, indent=2))

    def _check_rule(self, text: str) -> None:
        listed = run("nft", "list", "table", *self.table.split())
        if text not in listed:
            raise NodeError(f"nftables rule {text!r} is not in place:\n{listed}")

    def _containerd(self) -> None:
        folder = self.folder / "containerd"
        archive, pause_image = self._pause_image()
        config = folder / "config.toml"
        config.write_text(containerd_config(folder, self.sockets, pause_image))
        containerd = self._launch("containerd", ["containerd", "--config", str(config)])

        def answers() -> bool:
            containerd.check_alive()
            return (
                self.containerd_socket.exists()
                and run("ctr", "--address", str(self.containerd_socket), "version", check=False)
                != ""
            )

        self.plane.wait_for("containerd", answers, timeout=60)
        for image in [archive, *self.images]:
            self.ctr("images", "import", "--no-unpack", str(image))

    def _pause_image(self) -> tuple[Path, str]:
        env = {**os.environ, "GOFLAGS": "-mod=mod"}
        result = subprocess.run(
            ["bash", str(PAUSE_SCRIPT)], capture_output=True, text=True, env=env, check=False
        )
        if result.returncode != 0:
            raise NodeError(f"pause.sh failed: {result.stderr[-2000:]}")
        archive, image = result.stdout.strip().splitlines()[-1].split()
        return Path(archive), image

    def _kubelet(self) -> None:
        certs = self.plane.state_dir / "pki"
        kubeconfig = self.folder / "kubelet.kubeconfig"
        self.plane.write_kubeconfig(
            kubeconfig, pki.KeyPair(certs / "kubelet.crt", certs / "kubelet.key"), self.name
        )
        self.kubelet_port = free_port()
        self.kubelet_healthz_port = free_port()
        config = self.folder / "kubelet.yaml"
        config.write_text(yaml.safe_dump(kubelet_config(self)))
        self._launch(
            "kubelet",
            [
                str(self.plane.bin_dir / "kubelet"),
                f"--config={config}",
                f"--kubeconfig={kubeconfig}",
                f"--root-dir={self.folder / 'kubelet'}",
                f"--cert-dir={self.folder / 'kubelet-pki'}",
                f"--hostname-override={self.name}",
                f"--node-ip={self.gateway}",
                "--v=1",
            ],
        )

    def _scheduler(self) -> None:
        certs = self.plane.state_dir / "pki"
        kubeconfig = self.folder / "scheduler.kubeconfig"
        self.plane.write_kubeconfig(
            kubeconfig,
            pki.KeyPair(certs / "scheduler.crt", certs / "scheduler.key"),
            "system:kube-scheduler",
        )
        config = self.folder / "scheduler.yaml"
        config.write_text(yaml.safe_dump(scheduler_config(kubeconfig)))
        self._launch(
            "kube-scheduler",
            [
                str(self.plane.bin_dir / "kube-scheduler"),
                f"--config={config}",
                "--secure-port=0",
                "--v=1",
            ],
        )

    def _launch(self, name: str, argv: list[str]) -> Component:
        component = Component(name, argv, self.folder / f"{name}.log", dict(os.environ))
        self.components.append(component)
        return component

    def _ready(self) -> bool:
        for component in self.components:
            component.check_alive()
        with self.plane.client(timeout=5) as client:
            try:
                response = client.get(f"/api/v1/nodes/{self.name}")
            except httpx.HTTPError:
                return False
        if response.status_code != 200:
            return False
        node = response.json()
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        taints = [t["key"] for t in node.get("spec", {}).get("taints") or []]
        return conditions.get("Ready") == "True" and not taints

    def stop(self) -> None:
        """Stop pods, kubelet, scheduler and containerd; put every host setting back."""
        try:
            if any(c.name == "kubelet" and c.process.poll() is None for c in self.components):
                self._drain()
            self._stop_components()
            if self.guard is not None:
                # The next node of this control plane registers afresh.
                self.plane.kubectl("delete", "node", self.name, "--wait=false", check=False)
            if self.guard is not None:
                self.guard.restore()
                self.guard = None
        finally:
            if self._lock is not None:
                fcntl.flock(self._lock, fcntl.LOCK_UN)
                self._lock.close()
                self._lock = None

    def _drain(self) -> None:
        """Delete every pod and let the kubelet stop them (volumes unmounted, sandboxes and
        their network namespaces removed), then remove what is left through containerd."""
        with contextlib.suppress(Exception):
            self.plane.kubectl(
                "delete", "pods", "--all", "--all-namespaces", "--grace-period=1", "--wait=false",
                check=False, timeout=30,
            )  # fmt: skip

            def no_tasks() -> bool:
                return self.ctr("tasks", "ls", "-q", check=False).strip() == ""

            self.plane.wait_for("the node's containers to stop", no_tasks, timeout=40)
        self._record_netns()

    def _record_netns(self) -> None:
        """The network namespaces of this node's sandboxes, for HostGuard to remove."""
        if self.guard is None or not self.containerd_socket.exists():
            return
        for container in self.ctr("containers", "ls", "-q", check=False).split():
            info = self.ctr("containers", "info", container, check=False)
            with contextlib.suppress(ValueError, KeyError, TypeError):
                spec = json.loads(info)["Spec"]
                for namespace in spec["linux"]["namespaces"]:
                    path = namespace.get("path", "")
                    if namespace["type"] == "network" and path.startswith("/var/run/netns/"):
                        self.guard.netns.append(path.rsplit("/", 1)[1])
        self.guard.save()

    def _stop_components(self) -> None:
        for component in reversed(self.components):
            if component.name == "containerd":
                self._record_netns()
                self._kill_containers()
            component.stop()
        self.components.clear()
        self._kill_shims()

    def _kill_containers(self) -> None:
        if not self.containerd_socket.exists():
            return
        for task in self.ctr("tasks", "ls", "-q", check=False).split():
            self.ctr("tasks", "kill", "-s", "SIGKILL", task, check=False)
            self.ctr("tasks", "delete", "-f", task, check=False)

    def _kill_shims(self) -> None:
        """containerd-shim processes of this node's containerd (they outlive containerd)."""
        address = str(self.containerd_socket)
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and address.encode() in argv:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(proc.name), 9)

    def logs(self) -> list[tuple[str, Path]]:
        return [(component.name, component.log) for component in self.components]
