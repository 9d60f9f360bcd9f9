"""`scheduledrun trigger` and `scheduledrun history`: what a kubectl user wants on a live cluster.

Thin I/O around pure pieces: `generator.spec.trigger` decides whether a manual run may start and
builds the Job that `kubectl create job --from` would build; `history_table` formats a run
history. The Kubernetes client is the official
one (kubeconfig contexts and exec plugins work as they do for kubectl).
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import click

from generator.cli.options import cluster_options
from generator.spec.trigger import active_jobs, caller_trace, decide_trigger, manual_job, run_name
from runner import api

HISTORY_COLUMNS = ("ID", "TRIGGER", "STATUS", "SCHEDULED", "STARTED", "ENDED", "MESSAGE")
_HISTORY_KEYS = ("id", "trigger", "status", "scheduledTime", "startTime", "endTime", "message")


def history_table(entries: Sequence[Mapping[str, Any]], message_width: int = 60) -> str:
    """A kubectl-style table of run-history entries, newest first, messages cut to one line."""
    rows = [list(HISTORY_COLUMNS)]
    for entry in entries:
        row = [str(entry.get(key) or "-") for key in _HISTORY_KEYS]
        message = " ".join(row[-1].split())
        row[-1] = message if len(message) <= message_width else message[: message_width - 1] + "…"
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HISTORY_COLUMNS))]
    lines = ["   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _job_selector(cronjob: Mapping[str, Any]) -> str:
    """The label selector of the Jobs made from this CronJob's template."""
    labels = ((cronjob["spec"]["jobTemplate"].get("metadata") or {}).get("labels")) or {}
    value = labels.get(api.LABEL_SCHEDULEDRUN)
    return f"{api.LABEL_SCHEDULEDRUN}={value}" if value else ""


def kube_clients(kubeconfig: str | None, context: str | None) -> tuple[Any, Any]:
    from kubernetes import client, config

    try:
        config.load_kube_config(config_file=kubeconfig, context=context)
    except Exception as exc:
        try:
            config.load_incluster_config()
        except Exception:
            raise click.ClickException(f"no cluster to talk to: {exc}") from exc
    return client.CustomObjectsApi(), client.BatchV1Api()


def get_scheduledrun(custom: Any, namespace: str, name: str) -> dict[str, Any]:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        obj: dict[str, Any] = custom.get_namespaced_custom_object(
            api.GROUP, api.VERSION, namespace, api.PLURAL, name
        )
    except ApiException as exc:
        if exc.status == 404:
            raise click.ClickException(
                f'scheduledrun "{name}" not found in namespace "{namespace}"'
            ) from exc
        raise click.ClickException(
            f"reading scheduledrun {namespace}/{name}: {exc.reason}"
        ) from exc
    except HTTPError as exc:
        raise click.ClickException(f"cannot reach the cluster: {exc}") from exc
    return obj


def cluster_namespace(namespace: str | None, context: str | None, kubeconfig: str | None) -> str:
    """`-n`, else the namespace of the context kubectl would use (`--context`, else the current
    one, from `--kubeconfig` or KUBECONFIG), else "default", as kubectl picks it."""
    if namespace:
        return namespace
    from kubernetes import config

    try:
        contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
    except Exception:
        return "default"
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else active
    return str(((chosen or {}).get("context") or {}).get("namespace") or "default")


@click.command("trigger")
@click.argument("name")
@cluster_options
@click.option("--no-wait", is_flag=True, help="Create the Job and return at once.")
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds to wait for the end.")
@click.option(
    "--force",
    is_flag=True,
    help="Run even if not Accepted, or while a run is active under concurrencyPolicy Forbid.",
)
@click.option(
    "--traceparent",
    envvar="TRACEPARENT",
    default=None,
    help="A W3C traceparent whose trace the run joins (its A2A requests and span carry it);"
    " default: $TRACEPARENT, else the run starts a trace of its own.",
)
def trigger_command(
    name: str,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
    no_wait: bool,
    timeout: float,
    force: bool,
    traceparent: str | None,
) -> None:
    """Run a ScheduledRun now (a Manual Job from its CronJob), wait, print the outcome.

    Refuses a ScheduledRun that is not Accepted, or that has concurrencyPolicy Forbid while one
    of its runs is active (--force overrides); with Replace the active runs are deleted first.
    `kubectl create job --from=cronjob/...` makes the same Job without these checks."""
    from kubernetes.client.exceptions import ApiException

    custom, batch = kube_clients(kubeconfig, context)
    ns = cluster_namespace(namespace, context, kubeconfig)
    sr = get_scheduledrun(custom, ns, name)
    cronjob_name = (sr.get("status") or {}).get("cronJobName")
    try:
        running: list[str] = []
        cronjob: dict[str, Any] = {}
        jobs: list[dict[str, Any]] = []
        if cronjob_name:
            cronjob = batch.api_client.sanitize_for_serialization(
                batch.read_namespaced_cron_job(cronjob_name, ns)
            )
            listed = batch.api_client.sanitize_for_serialization(
                batch.list_namespaced_job(ns, label_selector=_job_selector(cronjob))
            )
            jobs = listed.get("items") or []
            running = active_jobs(jobs, cronjob["metadata"]["uid"])
        decision = decide_trigger(sr, running, force=force)
        if not decision.allowed:
            raise click.ClickException(decision.message)
        for old in decision.replace:
            batch.delete_namespaced_job(old, ns, propagation_policy="Background")
            click.echo(f"job.batch/{old} deleted (concurrencyPolicy Replace)")
        # Under Forbid the name is one per state of the Jobs: a racing trigger collides (409).
        job = manual_job(
            cronjob,
            run_name(sr, cronjob, jobs, force, None, secrets.token_hex(3)),
            caller_trace(traceparent),
        )
        batch.create_namespaced_job(ns, job)
    except ApiException as exc:
        if exc.status == 409:
            raise click.ClickException(
                "another trigger started a run at the same moment (its Job has this name)"
            ) from exc
        raise click.ClickException(f"creating the run's Job: {exc.status} {exc.reason}") from exc
    job_name = job["metadata"]["name"]
    click.echo(f"job.batch/{job_name} created from cronjob.batch/{cronjob_name}")
    if no_wait:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = (get_scheduledrun(custom, ns, name).get("status") or {}).get("runHistory") or []
        entry = next((e for e in history if e.get("id") == job_name), None)
        if entry and entry.get("status") in api.TERMINAL_STATUSES:
            click.echo(history_table([entry]))
            sys.exit(0 if entry["status"] == "Succeeded" else 1)
        time.sleep(1.0)
    raise click.ClickException(f"run {job_name} did not finish within {timeout:g}s")


@click.command("history")
@click.argument("name")
@cluster_options
@click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "json", "yaml"]),
    default="table",
    show_default=True,
)
def history_command(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None, output: str
) -> None:
    """Show a ScheduledRun's run history, newest first."""
    custom, _ = kube_clients(kubeconfig, context)
    sr = get_scheduledrun(custom, cluster_namespace(namespace, context, kubeconfig), name)
    entries = (sr.get("status") or {}).get("runHistory") or []
    if output == "json":
        click.echo(json.dumps(entries, indent=2))
    elif output == "yaml":
        import yaml

        click.echo(yaml.safe_dump(entries, sort_keys=False).rstrip())
    elif entries:
        click.echo(history_table(entries))
    else:
        click.echo(f'scheduledrun "{name}" has no runs yet')


@click.command("resume")
@click.argument("name")
@cluster_options
def resume_command(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> None:
    """End a ScheduledRun's pause after failures (spec.pauseAfterFailures).

    Sets the annotation kagent.dev/resume to the Paused condition's lastTransitionTime, naming
    the pause it ends; the operator then lifts it, unsuspends the CronJob and counts failures
    afresh. Changing the spec (for example suspend true, then false) does the same.
    """
    from generator.spec.policies import pause_to_resume

    custom, _ = kube_clients(kubeconfig, context)
    ns = cluster_namespace(namespace, context, kubeconfig)
    since = pause_to_resume(get_scheduledrun(custom, ns, name))
    if since is None:
        raise click.ClickException(f'scheduledrun "{name}" is not paused after failures')
    patch = {"metadata": {"annotations": {api.ANNOTATION_RESUME: since}}}
    custom.patch_namespaced_custom_object(api.GROUP, api.VERSION, ns, api.PLURAL, name, patch)
    click.echo(f"scheduledrun {ns}/{name}: resume of the pause since {since} requested")
