"""The flags every `scheduledrun` command that talks to a cluster takes, as kubectl spells them:
`-n/--namespace`, `--kubeconfig`, `--context`. One definition: no command reads `-n` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

NAMESPACE_HELP = "Namespace (default: the context's)."


def cluster_options(func: F | None = None, *, namespace_help: str = NAMESPACE_HELP) -> Any:
    """Add `-n/--namespace`, `--kubeconfig` and `--context` (as `@cluster_options`, or as
    `@cluster_options(namespace_help=...)` where the namespace means a little more)."""

    def decorate(f: F) -> F:
        f = click.option("--context", default=None, help="Kubeconfig context.")(f)
        f = click.option(
            "--kubeconfig", default=None, envvar="KUBECONFIG", help="Kubeconfig file."
        )(f)
        return click.option("-n", "--namespace", default=None, help=namespace_help)(f)

    return decorate if func is None else decorate(func)
