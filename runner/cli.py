"""The `scheduledrun` command. Subcommands load lazily, so `scheduledrun run` (the runner's
entry point, paid on every tick) imports neither the operator's libraries nor its own peers.

Without an extra (the runner image has neither `operator` nor `server`), `scheduledrun --help`
still lists every command; one that needs an extra says which, when it is run, never with a
traceback."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any, Final

import click

# name -> "module:attribute" of a click.Command; only the one invoked is imported.
SUBCOMMANDS: dict[str, str] = {
    "run": "runner.main:run_command",
    "validate": "generator.cli.offline:validate_command",
    "render": "generator.cli.offline:render_command",
    "next": "generator.cli.offline:next_command",
    "operator": "generator.cli.operator:operator_command",
    "trigger": "generator.cli.cluster:trigger_command",
    "history": "generator.cli.cluster:history_command",
    "resume": "generator.cli.cluster:resume_command",
    "serve": "server.cli:serve_command",
}

# Top-level modules of the extras: a subcommand failing on one of these needs that extra.
_EXTRAS = {
    "operator": frozenset({"kopf", "kubernetes", "jinja2", "prometheus_client", "yaml"}),
    "server": frozenset({"fastapi", "starlette", "pydantic", "uvicorn", "yaml"}),
}
PACKAGE: Final = "kagent-scheduledrun"
# The longest one-line summary `--help` prints whole (wrapped to the terminal, never cut off).
SUMMARY_MAX: Final = 200


def _present(target: str) -> bool:
    """Whether the subcommand's top-level package is installed (a wheel may lack one)."""
    return importlib.util.find_spec(target.partition(":")[0].split(".")[0]) is not None


def _extra_of(cmd_name: str) -> str:
    return "server" if SUBCOMMANDS.get(cmd_name, "").startswith("server.") else "operator"


def _needs_extra(cmd_name: str, exc: ImportError) -> click.ClickException:
    missing = exc.name or "a module"
    extra = _extra_of(cmd_name)
    hint = f" (install {PACKAGE}[{extra}])" if missing.split(".")[0] in _EXTRAS[extra] else ""
    return click.ClickException(
        f"`scheduledrun {cmd_name}` needs {missing}, which is not installed{hint}"
    )


def _unavailable(cmd_name: str, exc: ImportError) -> click.Command:
    """A stand-in for a command whose module cannot be imported here: listed in `--help` with the
    reason, and failing with that reason (exit 1) when run."""
    error = _needs_extra(cmd_name, exc)

    def fail(**_: Any) -> None:
        raise error

    return click.Command(
        cmd_name,
        callback=fail,
        help=error.message,
        short_help=f"(not available here: install {PACKAGE}[{_extra_of(cmd_name)}])",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        params=[click.Argument(["args"], nargs=-1, required=False)],
    )


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
            return _unavailable(cmd_name, exc)
        command: Any = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole summary, wrapped, where click would cut it at the width."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(SUMMARY_MAX)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """A library of an extra that a command imports only while it runs (the cluster client,
        a YAML writer) fails as cleanly as one its module imports."""
        try:
            return super().invoke(ctx)
        except ImportError as exc:
            command = ctx.invoked_subcommand or ""
            if (exc.name or "").split(".")[0] not in _EXTRAS[_extra_of(command)]:
                raise
            raise _needs_extra(command, exc) from exc


# The subcommands `kubectl scheduledrun` offers: those a kubectl user runs against a cluster or
# its manifests (the runner, the operator and the REST server are not kubectl's business).
PLUGIN_COMMANDS: Final = frozenset({"history", "next", "resume", "trigger", "validate"})
PLUGIN_NAME: Final = "kubectl scheduledrun"


class PluginGroup(LazyGroup):
    """`kubectl-scheduledrun`: the same lazily loaded commands, only those in PLUGIN_COMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name in PLUGIN_COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) if cmd_name in PLUGIN_COMMANDS else None


@click.group(cls=PluginGroup)
@click.version_option(package_name=PACKAGE, prog_name=PLUGIN_NAME)
def kubectl_plugin() -> None:
    """ScheduledRuns from kubectl: run one now, read its history, preview and check schedules.

    kubectl finds this program as `kubectl-scheduledrun` on PATH (krew's naming); kubectl's own
    flags go after the subcommand: `kubectl scheduledrun history NAME -n NAMESPACE --context C`."""


def kubectl_main() -> None:
    """Entry point of `kubectl-scheduledrun`: usage lines say `kubectl scheduledrun`, as typed."""
    kubectl_plugin.main(prog_name=PLUGIN_NAME)


@click.group(cls=LazyGroup)
@click.version_option(package_name=PACKAGE, prog_name="scheduledrun")
def main() -> None:
    """Scheduled AI-agent runs on Kubernetes: ScheduledRun -> CronJob -> one A2A run per tick."""
