"""Where the operator listens: `--metrics-bind-address` and `--health-address` (here 127.0.0.1, as
devcluster's OperatorProcess passes them) bind /metrics and /healthz to that address only, as the
kernel's socket table shows; and /metrics carries no `_created` series."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from devcluster.operator import OperatorProcess

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


def listening_addresses(port: int) -> set[str]:
    """The IPv4 and IPv6 addresses a socket on `port` listens on."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != LISTEN or int(hex_port, 16) != port:
                continue
            raw = bytes.fromhex(address)
            words = struct.unpack(f"<{len(raw) // 4}I", raw)  # the kernel's words, host order
            found.add(socket.inet_ntop(family, struct.pack(f">{len(words)}I", *words)))
    return found


def test_metrics_and_health_listen_on_loopback_only(operator: OperatorProcess) -> None:
    assert listening_addresses(operator.metrics_port) == {"127.0.0.1"}
    assert listening_addresses(operator.health_port) == {"127.0.0.1"}
    assert "_created" not in operator.metrics()
