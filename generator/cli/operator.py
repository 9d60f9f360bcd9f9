"""`scheduledrun operator`: run the kopf operator in this process.

Flags carry environment fallbacks so the chart can set them either way. Credentials are whatever
kopf and the official client find: in-cluster, or the kubeconfig (KUBECONFIG or ~/.kube/config).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import click

from generator.operator.health import DEFAULT_STALE_AFTER as DEFAULT_HEALTH_STALE_AFTER
from generator.operator.hotminute import DEFAULT_CAPACITY as DEFAULT_HOT_MINUTE_CAPACITY
from runner.options import a2a_options, pull_policy_option


def _settings(options: dict[str, Any]) -> Any:
    from generator.cronjob.config import OperatorConfig

    return OperatorConfig(
        runner_image=options["runner_image"],
        image_pull_policy=options["runner_image_pull_policy"],
        a2a_base_url=options["a2a_base_url"],
        a2a_protocol=options["a2a_protocol"],
        a2a_user_id=options["a2a_user_id"],
        a2a_token_secret=options["a2a_token_secret"],
        a2a_token_secret_key=options["a2a_token_secret_key"],
        a2a_token_audience=options["a2a_token_audience"],
        runner_service_account=options["runner_service_account"],
        session_url=options["session_url"],
        otlp_endpoint=options["runner_otlp_endpoint"],
    )


def _configure_logging(log_format: str, log_level: str) -> None:
    import kopf

    form = kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.FULL
    level = getattr(logging, log_level.upper())
    kopf.configure(verbose=level <= logging.DEBUG, quiet=level >= logging.WARNING, log_format=form)
    logging.getLogger().setLevel(level)
    # kopf logs "Handler ... succeeded" per event, and aiohttp every liveness probe: at info level
    # that is a line per watch event, a cost that grows with the number of objects.
    quiet_level = level if level <= logging.DEBUG else max(level, logging.WARNING)
    for name in ("kopf.objects", "aiohttp.access"):
        logging.getLogger(name).setLevel(quiet_level)


@click.command("operator")
@a2a_options
@click.option(
    "--a2a-token-secret",
    envvar="SCHEDULEDRUN_A2A_TOKEN_SECRET",
    default="",
    help="Secret in each ScheduledRun's namespace whose token the runner sends to kagent as a"
    " bearer token (mounted into the runner pod; never logged).",
)
@click.option(
    "--a2a-token-secret-key",
    envvar="SCHEDULEDRUN_A2A_TOKEN_SECRET_KEY",
    default="token",
    show_default=True,
    help="Key of the token in --a2a-token-secret.",
)
@click.option(
    "--a2a-token-audience",
    envvar="SCHEDULEDRUN_A2A_TOKEN_AUDIENCE",
    default="",
    help="Instead of a Secret: a projected ServiceAccount token with this audience, as the"
    " runner's bearer token for kagent.",
)
@click.option(
    "--session-url",
    envvar="SCHEDULEDRUN_SESSION_URL",
    default="",
    help="Link template to a run's session in kagent's UI, e.g."
    " https://kagent.example/agents/{namespace}/{agent}/chat/{sessionID}; runners send it with"
    " each delivery (spec.delivery) as sessionLink. Empty: no link.",
)
@click.option(
    "--runner-image",
    envvar="SCHEDULEDRUN_RUNNER_IMAGE",
    default=None,
    help="Image of the runner container (default: this release's image).",
)
@pull_policy_option
@click.option(
    "--runner-service-account",
    envvar="SCHEDULEDRUN_RUNNER_SERVICE_ACCOUNT",
    default="kagent-scheduledrun-runner",
    show_default=True,
    help="ServiceAccount the operator creates per namespace for runner pods.",
)
@click.option(
    "--runner-otlp-endpoint",
    envvar="SCHEDULEDRUN_RUNNER_OTLP_ENDPOINT",
    default="",
    help="OTLP/HTTP endpoint (base URL, as OTEL_EXPORTER_OTLP_ENDPOINT) each runner exports its"
    " run's span to, as JSON; empty: no export (runs still carry a traceparent).",
)
@click.option(
    "--runner-cluster-role",
    envvar="SCHEDULEDRUN_RUNNER_CLUSTER_ROLE",
    default="kagent-scheduledrun-runner",
    show_default=True,
    help="ClusterRole bound to the runner ServiceAccount in each namespace.",
)
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    envvar="SCHEDULEDRUN_NAMESPACES",
    help="Watch only this namespace (repeatable); default: all namespaces.",
)
@click.option(
    "--all-namespaces",
    is_flag=True,
    default=False,
    help="Watch all namespaces (the default when no --namespace is given).",
)
@click.option(
    "--metrics-port",
    envvar="SCHEDULEDRUN_METRICS_PORT",
    default=8080,
    type=int,
    show_default=True,
    help="Port of /metrics (0: no metrics server).",
)
@click.option(
    "--metrics-bind-address",
    "metrics_address",
    envvar="SCHEDULEDRUN_METRICS_BIND_ADDRESS",
    default="127.0.0.1",
    show_default=True,
    help="Address /metrics listens on (the chart: 0.0.0.0 in the pod, with --metrics-secure).",
)
@click.option(
    "--metrics-secure/--metrics-insecure",
    envvar="SCHEDULEDRUN_METRICS_SECURE",
    default=False,
    show_default=True,
    help="Serve /metrics only to bearer tokens the API server authenticates (TokenReview) and"
    " allows to get /metrics (SubjectAccessReview), as controller-runtime's secure metrics.",
)
@click.option(
    "--metrics-cert-dir",
    envvar="SCHEDULEDRUN_METRICS_CERT_DIR",
    default=None,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder with tls.crt and tls.key: serve /metrics over HTTPS.",
)
@click.option(
    "--health-port",
    envvar="SCHEDULEDRUN_HEALTH_PORT",
    default=8081,
    type=int,
    show_default=True,
    help="Port of the liveness endpoint /healthz (0: none).",
)
@click.option(
    "--health-address",
    envvar="SCHEDULEDRUN_HEALTH_ADDRESS",
    default="0.0.0.0",
    show_default=True,
    help="Address /healthz listens on (127.0.0.1: this machine only).",
)
@click.option(
    "--health-stale-after",
    envvar="SCHEDULEDRUN_HEALTH_STALE_AFTER",
    type=click.FloatRange(min=1.0),
    default=DEFAULT_HEALTH_STALE_AFTER,
    show_default=True,
    help="Seconds without a watch event or a successful list from the API server after which"
    " /healthz answers 503 with the reason, so the kubelet restarts an operator cut off from it"
    " (a list of one ScheduledRun is made every third of this).",
)
@click.option(
    "--hot-minute-capacity",
    envvar="SCHEDULEDRUN_HOT_MINUTE_CAPACITY",
    type=click.IntRange(1),
    default=DEFAULT_HOT_MINUTE_CAPACITY,
    show_default=True,
    help="ScheduledRuns that may fire in one minute before those sharing it get the HotMinute "
    "condition and a warning event: what the CronJob controller starts in a minute "
    "(bench/ticklag.py; about 500 at its default flags).",
)
@click.option(
    "--log-format",
    envvar="SCHEDULEDRUN_LOG_FORMAT",
    default="text",
    show_default=True,
    type=click.Choice(["text", "json"]),
)
@click.option(
    "--log-level",
    envvar="SCHEDULEDRUN_LOG_LEVEL",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
def operator_command(**options: Any) -> None:
    """Run the operator: keep every ScheduledRun's CronJob and status true."""
    if options["namespaces"] and options["all_namespaces"]:
        raise click.UsageError("give --namespace or --all-namespaces, not both")
    if options["a2a_token_secret"] and options["a2a_token_audience"]:
        raise click.UsageError("give --a2a-token-secret or --a2a-token-audience, not both")
    import kopf
    import uvloop

    from generator.cronjob.config import DEFAULT_RUNNER_IMAGE
    from generator.operator import handlers  # noqa: F401  (registers the handlers)
    from generator.operator.controller import Options
    from generator.operator.runtime import MEMO_KEY, Runtime

    options["runner_image"] = options["runner_image"] or DEFAULT_RUNNER_IMAGE
    _configure_logging(options["log_format"], options["log_level"])
    runtime = Runtime(
        options=Options(
            _settings(options),
            options["runner_cluster_role"],
            tuple(options["namespaces"]),
            options["hot_minute_capacity"],
        ),
        metrics_port=options["metrics_port"],
        metrics_address=options["metrics_address"],
        metrics_secure=options["metrics_secure"],
        metrics_cert_dir=options["metrics_cert_dir"],
        health_port=options["health_port"],
        health_address=options["health_address"],
        health_stale_after=options["health_stale_after"],
    )
    memo = kopf.Memo({MEMO_KEY: runtime})
    # /healthz is the operator's own (generator/operator/health_server.py): kopf's liveness
    # endpoint answers as long as the process runs, also when no watch reaches the API server.
    # On uvloop, as kopf's own CLI runs when it is installed: the event loop and TLS were about a
    # quarter of the operator's CPU per ScheduledRun on asyncio's (bench/operator_bench.py).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        kopf.run(
            loop=runner.get_loop(),
            standalone=True,
            clusterwide=not options["namespaces"],
            namespaces=list(options["namespaces"]),
            memo=memo,
        )
