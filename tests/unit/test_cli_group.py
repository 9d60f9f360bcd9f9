"""The `scheduledrun` group: subcommands load lazily and absent ones are neither listed nor run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import cli


def test_a_subcommand_whose_package_is_absent_is_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.SUBCOMMANDS, "ghost", "no_such_package_here.cli:command")
    listed = CliRunner().invoke(cli.main, ["--help"])
    assert "ghost" not in listed.output
    assert "validate" in listed.output
    ran = CliRunner().invoke(cli.main, ["ghost"])
    assert ran.exit_code == 2
    assert "No such command 'ghost'" in ran.output


def test_a_missing_operator_library_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    probe = tmp_path / "needs_kopf_probe.py"
    probe.write_text('raise ImportError("No module named \'kopf\'", name="kopf")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.SUBCOMMANDS, "needs-kopf", "needs_kopf_probe:command")
    result = CliRunner().invoke(cli.main, ["needs-kopf"])
    assert result.exit_code == 1
    assert "needs kopf, which is not installed (install kagent-scheduledrun[operator])" in (
        result.output
    )


def test_the_kubectl_plugin_offers_the_kubectl_users_commands() -> None:
    listed = CliRunner().invoke(cli.kubectl_plugin, ["--help"], prog_name=cli.PLUGIN_NAME)
    assert listed.exit_code == 0
    assert listed.output.startswith("Usage: kubectl scheduledrun [OPTIONS] COMMAND")
    rows = listed.output.split("Commands:")[1].splitlines()
    commands = [row.split()[0] for row in rows if row.startswith("  ") and row[2] != " "]
    assert commands == sorted(cli.PLUGIN_COMMANDS)
    ran = CliRunner().invoke(cli.kubectl_plugin, ["operator"])
    assert ran.exit_code == 2
    assert "No such command 'operator'" in ran.output
