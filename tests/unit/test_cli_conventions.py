"""kubectl's conventions across `scheduledrun`: `-n` is always the namespace, counts are
`--count`, `--version` answers, a command that reads a file reads many, summaries in `--help` are
whole, and `--help` (and a clean refusal) works without the operator extra, as in the runner
image: checked in a subprocess whose imports of the extra's libraries fail.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from runner import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
# Runs `scheduledrun` with the operator extra's libraries made unimportable.
WITHOUT_EXTRA = """
import sys
BLOCKED = {"kopf", "kubernetes", "jinja2", "prometheus_client", "yaml"}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
sys.argv[0] = "scheduledrun"
from runner.cli import main
main()
"""


def without_extra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def commands() -> dict[str, click.Command]:
    ctx = click.Context(cli.main)
    found = {name: cli.main.get_command(ctx, name) for name in cli.main.list_commands(ctx)}
    return {name: command for name, command in found.items() if command is not None}


def test_dash_n_is_the_namespace_in_every_command() -> None:
    meanings = {
        name: option.name
        for name, command in commands().items()
        for option in command.params
        if isinstance(option, click.Option) and "-n" in option.opts
    }
    assert meanings
    assert {name: "namespace" for name in meanings} == meanings


def test_next_counts_with_count_and_takes_a_namespace() -> None:
    result = CliRunner().invoke(cli.main, ["next", str(EXAMPLES[0]), "--count", "2", "-n", "demo"])
    assert result.exit_code == 0, result.output
    times = [line for line in result.output.splitlines() if line.startswith("  20")]
    assert len(times) >= 2


@pytest.mark.parametrize("command", ["validate", "render", "next"])
def test_every_file_command_takes_many_files(command: str) -> None:
    result = CliRunner().invoke(cli.main, [command, *map(str, EXAMPLES)])
    assert result.exit_code == 0, result.output
    for path in EXAMPLES:
        assert path.name in result.output or command == "render"
    if command == "render":
        assert result.output.count("kind: CronJob") >= len(EXAMPLES)


def test_version() -> None:
    result = CliRunner().invoke(cli.main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("scheduledrun, version ")


def test_help_summaries_are_whole() -> None:
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1]
    assert "..." not in listed
    assert "the operator's own rules." in listed  # the end of validate's summary


def test_help_works_without_the_operator_extra() -> None:
    result = without_extra("--help")
    assert result.returncode == 0, result.stderr
    for name in ("run", "validate", "render", "next", "trigger", "history", "operator"):
        assert f"  {name} " in result.stdout
    assert "install kagent-scheduledrun[operator]" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["history", "nightly"], id="history"),
        pytest.param(["trigger", "nightly"], id="trigger"),
        pytest.param(["validate", "x.yaml"], id="validate"),
        pytest.param(["next", "x.yaml", "--count", "1"], id="next"),
    ],
)
def test_a_command_needing_the_extra_says_so_without_a_traceback(args: list[str]) -> None:
    result = without_extra(*args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "which is not installed (install kagent-scheduledrun[operator])" in result.stderr


def test_a_file_without_a_scheduledrun_says_so(tmp_path: Path) -> None:
    config_map = tmp_path / "cm.yaml"
    config_map.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    for command in ("validate", "render", "next"):
        result = CliRunner().invoke(cli.main, [command, str(config_map)])
        assert result.exit_code == 1
        assert f"no ScheduledRun in {config_map}" in result.stderr
