"""The demo (`scripts/demo.py --once`) from start to clean stop: it runs a ScheduledRun once and
prints where the web UI and the REST API are. Not covered: the demo's endless mode (the same
steps, then waiting for ticks)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from devcluster.stack import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_the_demo_runs_once_and_prints_the_ui_address() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py"), "--once"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"^web UI: +http://127\.0\.0\.1:\d+/ui/$", output, re.MULTILINE), output
    assert "Succeeded" in output
    assert "stopped; nothing left running" in output
