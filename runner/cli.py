"""The `scheduledrun` command. Subcommands load lazily, so `scheduledrun run` (the runner's
entry point, paid on every tick) imports neither the operator's libraries nor its own peers."""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> "module:attribute" of a click.Command; only the one invoked is imported.
SUBCOMMANDS: dict[str, str] = {
    "run": "runner.main:run_command",
    "validate": "generator.cli_offline:validate_command",
    "render": "generator.cli_offline:render_command",
    "next": "generator.cli_offline:next_command",
    "operator": "generator.cli_operator:operator_command",
    "trigger": "generator.cli_cluster:trigger_command",
    "history": "generator.cli_cluster:history_command",
    "cluster": "tests.controlplane.cli:cluster_command",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise click.ClickException(
                f"`scheduledrun {cmd_name}` needs {exc.name or 'a module'} that is not installed"
                " (install kagent-scheduledrun[operator])"
            ) from exc
        command: Any = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup)
def main() -> None:
    """Scheduled AI-agent runs on Kubernetes: ScheduledRun -> CronJob -> one A2A run per tick."""
