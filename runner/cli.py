"""The `scheduledrun` command. Subcommands load lazily, so `scheduledrun run` (the runner's
entry point, paid on every tick) imports neither the operator's libraries nor its own peers."""

from __future__ import annotations

import importlib
import importlib.util
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
    "resume": "generator.cli_cluster:resume_command",
    "serve": "server.cli:serve_command",
}


# Top-level modules of the extras: a subcommand failing on one of these needs that extra.
_EXTRAS = {
    "operator": frozenset({"kopf", "kubernetes", "jinja2", "prometheus_client", "yaml"}),
    "server": frozenset({"fastapi", "starlette", "pydantic", "uvicorn", "yaml"}),
}


def _present(target: str) -> bool:
    """Whether the subcommand's top-level package is installed (a wheel may lack one)."""
    return importlib.util.find_spec(target.partition(":")[0].split(".")[0]) is not None


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in SUBCOMMANDS.items() if _present(target))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None or not _present(target):
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            missing = exc.name or "a module"
            extra = "server" if module_name.startswith("server.") else "operator"
            hint = f" (install kagent-scheduledrun[{extra}])" if missing in _EXTRAS[extra] else ""
            raise click.ClickException(
                f"`scheduledrun {cmd_name}` needs {missing}, which is not installed{hint}"
            ) from exc
        command: Any = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup)
def main() -> None:
    """Scheduled AI-agent runs on Kubernetes: ScheduledRun -> CronJob -> one A2A run per tick."""
