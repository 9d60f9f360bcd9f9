"""The flags that `scheduledrun run`, `operator` and `render` share (the A2A endpoint and
protocol, the runner's pull policy): same names, same environment variables, same defaults, so the
chart, the CronJob and a person type them alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

import click

from runner import api

PROTOCOLS: Final = ("auto", "0.3", "1.0")
DEFAULT_PROTOCOL: Final = "auto"
PULL_POLICIES: Final = ("Always", "IfNotPresent", "Never")
DEFAULT_PULL_POLICY: Final = "IfNotPresent"
ENV_RUNNER_IMAGE_PULL_POLICY: Final = "SCHEDULEDRUN_RUNNER_IMAGE_PULL_POLICY"

F = TypeVar("F", bound=Callable[..., object])


def a2a_options(func: F) -> F:
    """Add `--a2a-base-url`, `--a2a-protocol` and `--a2a-user-id` (with environment fallbacks)."""
    func = click.option(
        "--a2a-user-id",
        envvar=api.ENV_A2A_USER_ID,
        default=api.DEFAULT_A2A_USER_ID,
        show_default=True,
        help="User kagent files the runs under (sent as X-User-Id; kagent lists only that"
        " user's tasks, and its UI shows the sessions under that user). Empty: send none.",
    )(func)
    func = click.option(
        "--a2a-protocol",
        envvar=api.ENV_A2A_PROTOCOL,
        type=click.Choice(PROTOCOLS),
        default=DEFAULT_PROTOCOL,
        show_default=True,
        help="A2A protocol: 0.3, 1.0, or auto (read the agent card).",
    )(func)
    return click.option(
        "--a2a-base-url",
        envvar=api.ENV_A2A_BASE_URL,
        default=api.DEFAULT_A2A_BASE_URL,
        show_default=True,
        help="Base URL of kagent's A2A endpoints (agents at /api/a2a/{namespace}/{name}/).",
    )(func)


def pull_policy_option(func: F) -> F:
    """Add `--runner-image-pull-policy` (with its environment fallback)."""
    return click.option(
        "--runner-image-pull-policy",
        envvar=ENV_RUNNER_IMAGE_PULL_POLICY,
        type=click.Choice(PULL_POLICIES),
        default=DEFAULT_PULL_POLICY,
        show_default=True,
        help="Pull policy of the runner container in each CronJob.",
    )(func)
