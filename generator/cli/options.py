"""The flags every `scheduledrun` command that talks to a cluster takes, as kubectl spells them:
`-n/--namespace`, `--kubeconfig`, `--context`. One definition: no command reads `-n` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

NAMESPACE_HELP = "Namespace (default: the context's)."


def cluster_options_with(namespace_help: str) -> Callable[[F], F]:
    """`cluster_options` where the namespace means a little more than usual."""

    def decorate(func: F) -> F:
        func = click.option("--context", default=None, help="Kubeconfig context.")(func)
        func = click.option(
            "--kubeconfig", default=None, envvar="KUBECONFIG", help="Kubeconfig file."
        )(func)
        return click.option("-n", "--namespace", default=None, help=namespace_help)(func)

    return decorate


def cluster_options(func: F) -> F:
    """Add `-n/--namespace`, `--kubeconfig` and `--context`."""
    return cluster_options_with(NAMESPACE_HELP)(func)
