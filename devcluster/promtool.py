"""Prometheus' promtool, built from the Go module pinned under devcluster/go/promtool by
build_promtool.sh (cached apart from the control-plane binaries): the tests check and unit-test
the chart's alerting rules and the dashboard's queries with it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

BUILD_SCRIPT = Path(__file__).resolve().parent / "build_promtool.sh"


class PromtoolBuildError(RuntimeError):
    pass


def promtool() -> Path:
    """$SCHEDULEDRUN_PROMTOOL when set, else build_promtool.sh's binary (built once, then
    reused)."""
    given = os.environ.get("SCHEDULEDRUN_PROMTOOL")
    if given:
        return Path(given)
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PromtoolBuildError(
            f"build_promtool.sh failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    return Path(result.stdout.strip().splitlines()[-1])
