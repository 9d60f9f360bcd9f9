"""What the operator's handlers share, in one object: the command line's choices and what the
start-up handler builds from them.

kopf gives every object it has seen (each ScheduledRun, CronJob and Job) its own shallow copy of
the operator's memo, kept until the object is deleted. With one key in the memo that copy is the
smallest dict there is; with a key per setting it was about 0.8 KB per object, the largest part
of kopf's own memory per ScheduledRun (bench/operator_bench.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from generator.operator.controller import Controller, Options
    from generator.operator.health import Liveness
    from generator.operator.health_server import HealthServer
    from generator.operator.metrics_server import MetricsServer

MEMO_KEY: Final = "runtime"


@dataclass
class Runtime:
    options: Options
    # From the command line (generator/cli/operator.py, where each has its default and help):
    metrics_port: int
    metrics_address: str
    metrics_secure: bool
    metrics_cert_dir: Path | None
    health_port: int
    health_address: str
    health_stale_after: float
    # Set by the start-up handler:
    controller: Controller | None = None
    liveness: Liveness | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    metrics_server: MetricsServer | None = None
    health_server: HealthServer | None = None


def of(memo: Any) -> Runtime:
    runtime: Runtime = memo[MEMO_KEY]
    return runtime
