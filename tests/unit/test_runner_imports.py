"""The runner's import path stays light: `scheduledrun run` must not load the operator's libraries.

Runs in a fresh interpreter (this test process has loaded everything already) and looks at
sys.modules after loading the `run` subcommand the way the `scheduledrun` entry point does and
making its Kubernetes client.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = [
    "kopf",
    "kubernetes",
    "jinja2",
    "prometheus_client",
    "yaml",
    "a2a",
    "asyncio",
    "generator",
    "server",
    "fastapi",
    "starlette",
    "uvicorn",
    # httpx's default transport: the runner's clients use runner.transport instead
    "httpcore",
    "h11",
]

PROBE = """
import json, sys
from runner.cli import main
command = main.get_command(None, "run")
assert command is not None and command.name == "run"
import runner.a2a, runner.history, runner.kube, runner.lifecycle, runner.main, runner.run
import ssl
from runner.kube import Credentials, KubeClient
KubeClient(Credentials("https://127.0.0.1:1", ssl.create_default_context())).close()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.fixture(scope="module")
def loaded() -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", FORBIDDEN)
def test_run_does_not_import(loaded: set[str], module: str) -> None:
    assert module not in loaded


def test_probe_sees_what_the_runner_does_import(loaded: set[str]) -> None:
    """Guards the probe itself: an empty or broken module list would pass the test above."""
    assert {"httpx", "click", "runner"} <= loaded


def test_the_entry_point_offers_run() -> None:
    script = Path(sys.executable).with_name("scheduledrun")
    out = subprocess.run([script, "run", "--help"], capture_output=True, text=True, timeout=60)
    assert (out.returncode, "--job-name" in out.stdout) == (0, True), out.stderr
