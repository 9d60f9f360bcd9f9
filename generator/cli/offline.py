"""`scheduledrun validate`, `render` and `next`: the operator's decisions, offline, on files.

What a person runs before `kubectl apply`: the same validation, rendering and next-run logic the
operator uses, on manifests read from files or stdin. Exit status: 0 when all is well, 1 when an
object is invalid, 2 when the input cannot be read or is not YAML. Bad input prints a message,
never a traceback.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import click
import yaml

from generator.cli.manifests import STDIN, Document, ManifestError, read_source
from generator.cli.options import cluster_options_with
from generator.cronjob.config import OperatorConfig
from generator.cronjob.render import RenderError, render_cronjob
from generator.schedule import load
from generator.schedule.cron import load_time_zone
from generator.schedule.hashed import has_hash
from generator.spec.preview import preview
from generator.spec.validate import Problem, validate_scheduledrun
from runner import api
from runner.conditions import Reason
from runner.options import a2a_options, pull_policy_option

EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_INPUT: Final = 2

_DEFAULTS = OperatorConfig()


def _is_scheduledrun(doc: Document) -> bool:
    """Objects of another kind are skipped, so a file may hold an Agent beside its ScheduledRun.
    A document without a kind (or not a mapping) is checked, and fails, as a ScheduledRun."""
    kind = doc.obj.get("kind") if isinstance(doc.obj, dict) else None
    return not isinstance(kind, str) or kind == api.KIND


def problems_of(doc: Document) -> list[Problem]:
    """Every problem of one document as a ScheduledRun (a list or a scalar is one problem)."""
    return validate_scheduledrun(doc.obj)


def verdict_lines(doc: Document, problems: Sequence[Problem]) -> list[str]:
    """`name (file): valid`, or `invalid` followed by one indented line per problem."""
    if not problems:
        return [f"{doc.label}: valid"]
    lines = [f"{doc.label}: invalid"]
    for p in problems:
        lines.append(f"  {p.field + ': ' if p.field else ''}{p.reason}: {p.message}")
    return lines


def firings(docs: Iterable[Document], namespace: str = "default") -> list[load.Firing]:
    """The schedules of `docs` that can be read, for counting who fires at the same minute."""
    found = (load.firing(doc.obj, namespace) for doc in docs if isinstance(doc.obj, dict))
    return [f for f in found if f is not None]


def shared_lines(own: load.Firing, others: Sequence[load.Firing], now: datetime) -> list[str]:
    """`  shares <time> with N other ScheduledRun(s) in <namespace>` (with the `H` form that
    would spread it), for the busiest minute of the next day that `own` shares; else nothing."""
    busiest = load.busiest_shared(own, [o for o in others if o.key[0] == own.key[0]], now)
    if busiest is None:
        return []
    at, count = busiest
    line = (
        f"  shares {at:%Y-%m-%dT%H:%M:%SZ} with {count} other"
        f" ScheduledRun{'s' if count > 1 else ''} in namespace {own.key[0]}"
    )
    suggestion = load.suggest_hashed(own.written)
    if suggestion is not None:
        line += f"; {json.dumps(suggestion)} keeps its hour and spreads the minute"
    return [line + "\n"]


def _read_all(sources: Iterable[str]) -> tuple[list[Document], list[str]]:
    docs: list[Document] = []
    errors: list[str] = []
    for source in sources:
        try:
            docs.extend(read_source(source))
        except ManifestError as exc:
            errors.append(str(exc))
    return docs, errors


def _fail_input(ctx: click.Context, errors: Sequence[str]) -> None:
    for error in errors:
        click.echo(f"error: {error}", err=True)
    ctx.exit(EXIT_INPUT)


@click.command("validate")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.pass_context
def validate_command(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Check ScheduledRun manifests offline, with the operator's own rules.

    Each FILE may hold several YAML documents; `-` reads stdin. Prints one verdict per
    ScheduledRun (objects of other kinds are listed as skipped). Exit status: 0 when all are
    valid, 1 when any is invalid, 2 when a file cannot be read or is not YAML.
    """
    docs, errors = _read_all(files)
    invalid = checked = 0
    others = firings([d for d in docs if _is_scheduledrun(d)])
    now = datetime.now(UTC)
    for doc in docs:
        if not _is_scheduledrun(doc):
            click.echo(f"{doc.label}: skipped, kind {doc.obj['kind']} is not a ScheduledRun")
            continue
        checked += 1
        problems = problems_of(doc)
        invalid += bool(problems)
        for line in verdict_lines(doc, problems):
            click.echo(line)
        own = load.firing(doc.obj) if not problems else None
        if own is not None:
            click.echo("\n".join(shared_lines(own, others, now)), nl=False)
    if errors:
        _fail_input(ctx, errors)
    if checked == 0:
        click.echo(f"error: no ScheduledRun in {', '.join(files)}", err=True)
        ctx.exit(EXIT_INVALID)
    ctx.exit(EXIT_INVALID if invalid else EXIT_OK)


def _read_scheduledruns(ctx: click.Context, sources: Sequence[str]) -> list[Document]:
    """The ScheduledRuns of the sources; other kinds are noted on stderr; exits 2 when one is
    unreadable, 1 (saying so) when they hold no ScheduledRun at all."""
    docs, errors = _read_all(sources)
    if errors:
        _fail_input(ctx, errors)
    runs: list[Document] = []
    for doc in docs:
        if _is_scheduledrun(doc):
            runs.append(doc)
        else:
            click.echo(
                f"{doc.label}: skipped, kind {doc.obj['kind']} is not a ScheduledRun", err=True
            )
    if not runs:
        click.echo(f"error: no ScheduledRun in {', '.join(sources)}", err=True)
        ctx.exit(EXIT_INVALID)
    return runs


def _with_namespace(obj: dict[str, Any], namespace: str | None, uid: str | None) -> dict[str, Any]:
    meta = dict(obj.get("metadata") or {})
    current = meta.get("namespace")
    if namespace and current and namespace != current:
        raise click.UsageError(
            f"--namespace {namespace} does not match metadata.namespace {current}"
            f" of {meta.get('name')}"
        )
    meta["namespace"] = current or namespace or "default"
    if uid:
        meta["uid"] = uid
    return {**obj, "metadata": meta}


@click.command("render")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--runner-image", default=_DEFAULTS.runner_image, show_default=True)
@pull_policy_option
@a2a_options
@click.option(
    "--runner-service-account", default=_DEFAULTS.runner_service_account, show_default=True
)
@click.option(
    "-n",
    "--namespace",
    default=None,
    help="Namespace for objects without metadata.namespace  [default: default]",
)
@click.option(
    "--uid",
    default=None,
    help="uid of the applied ScheduledRun, for the owner reference "
    "(kubectl get sr NAME -o jsonpath='{.metadata.uid}').",
)
@click.pass_context
def render_command(
    ctx: click.Context,
    files: tuple[str, ...],
    runner_image: str,
    runner_image_pull_policy: str,
    a2a_base_url: str,
    a2a_protocol: str,
    a2a_user_id: str,
    runner_service_account: str,
    namespace: str | None,
    uid: str | None,
) -> None:
    """Print the CronJob the operator would apply for each ScheduledRun.

    Each FILE may hold several YAML documents; `-` reads stdin.

    The owner reference that ties the CronJob to its ScheduledRun needs the ScheduledRun's uid,
    which only the cluster assigns. It comes from metadata.uid in the file or from --uid; without
    either the owner reference is left out (the operator always sets it), because one with a
    made-up uid would have the garbage collector delete the CronJob at once.

    If any ScheduledRun is invalid nothing is printed: its problems go to stderr and the exit
    status is 1 (2 when a FILE cannot be read or is not YAML).

    Check the output against a cluster with `| kubectl apply --dry-run=server -f -`.
    """
    settings = dataclasses.replace(
        _DEFAULTS,
        runner_image=runner_image,
        image_pull_policy=runner_image_pull_policy,
        a2a_base_url=a2a_base_url,
        a2a_protocol=a2a_protocol,
        a2a_user_id=a2a_user_id,
        runner_service_account=runner_service_account,
    )
    rendered: list[dict[str, Any]] = []
    failed = False
    for doc in _read_scheduledruns(ctx, files):
        problems = problems_of(doc)
        if not problems:
            try:
                obj = _with_namespace(doc.obj, namespace, uid)
                rendered.append(render_cronjob(obj, settings))
            except RenderError as exc:
                problems = [Problem(Reason.INVALID_SPEC, "", str(exc))]
        if problems:
            failed = True
            for line in verdict_lines(doc, problems):
                click.echo(line, err=True)
    if failed:
        ctx.exit(EXIT_INVALID)
    click.echo(
        yaml.safe_dump_all(rendered, sort_keys=False, explicit_start=False),
        nl=False,
    )


def _parse_instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an RFC 3339 time") from exc
    if instant.tzinfo is None:
        raise click.BadParameter(f"{text!r} has no UTC offset (add Z or +HH:MM)")
    return instant.astimezone(UTC)


def format_fire_time(instant: datetime, time_zone: str) -> str:
    """`2026-03-29T00:30:00Z`, then the same instant in the object's zone when that is not UTC."""
    utc = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if time_zone == "UTC":
        return utc
    local = instant.astimezone(load_time_zone(time_zone)).isoformat()
    return f"{utc}  {local} {time_zone}"


def next_lines(
    doc: Document,
    after: datetime,
    count: int,
    namespace: str | None = None,
    others: Sequence[load.Firing] = (),
) -> tuple[list[str], bool]:
    """The lines `scheduledrun next` prints for one ScheduledRun, and whether it could compute
    them (a bad schedule or zone prints its problems instead). `H` in the schedule is expanded
    for the object's namespace (else `namespace`, else `default`) and name, as the operator
    will."""
    found = preview(doc.obj, after, count, namespace or "default")
    if found.blocking:
        return verdict_lines(doc, found.blocking), False
    schedule: str = doc.obj["spec"]["schedule"]
    lines = [f"{doc.label}: {json.dumps(schedule, ensure_ascii=False)} in {found.time_zone}"]
    if has_hash(schedule):
        obj = _with_namespace(doc.obj, namespace, None)
        lines.append(
            f"  effective schedule {json.dumps(found.schedule, ensure_ascii=False)}"
            f" (H hashed from {obj['metadata']['namespace']}/{obj['metadata'].get('name')})"
        )
    if found.suspended:
        lines.append("  suspended: no scheduled run fires until spec.suspend is false")
    if found.problems:
        lines.append("  note: the object has other problems (see `scheduledrun validate`)")
    if not found.found:
        lines.append("  never: this schedule has no time it can fire")
    lines.extend(f"  {note}" for note in found.notes)
    own = load.firing(doc.obj, namespace or "default")
    near = [o for o in others if own is not None and o.key[0] == own.key[0] and o.key != own.key]
    shared = load.sharing(found.times, near) if near else [0] * len(found.times)
    for at, sharing in zip(found.times, shared, strict=True):
        where = (
            f"  (+{sharing} other{'s' if sharing > 1 else ''} in {near[0].key[0]})"
            if sharing
            else ""
        )
        lines.append(f"  {format_fire_time(at, found.time_zone)}{where}")
    if 0 < found.found < count and len(found.times) == found.found:
        lines.append("  no further time within five years")
    return lines, True


def _cluster_scheduledruns(
    names: Sequence[str], namespace: str | None, kubeconfig: str | None, context: str | None
) -> tuple[list[Document], list[Document]]:
    """The live ScheduledRuns `names`, read with the kubeconfig, as Documents; and every
    ScheduledRun of their namespace (none when the caller may not list them), to count who fires
    at the same minute."""
    from kubernetes.client.exceptions import ApiException

    from generator.cli.cluster import cluster_namespace, get_scheduledrun, kube_clients

    custom, _ = kube_clients(kubeconfig, context)
    ns = cluster_namespace(namespace, context, kubeconfig)
    try:
        listed = custom.list_namespaced_custom_object(api.GROUP, api.VERSION, ns, api.PLURAL)
        neighbours = [Document(f"{ns}/?", 1, 1, o) for o in listed.get("items") or []]
    except ApiException as exc:  # no right to list: the counts are left out, not the times
        if exc.status != 403:
            raise
        neighbours = []
    docs = []
    for name in names:
        obj = get_scheduledrun(custom, ns, name)
        cronjob = (obj.get("status") or {}).get("cronJobName")
        label = f"{ns}/{name}" + (f" (cronjob.batch/{cronjob})" if cronjob else "")
        docs.append(Document(label, 1, 1, obj))
    return docs, neighbours


def _looks_like_file(target: str) -> bool:
    return target == STDIN or "/" in target or target.endswith((".yaml", ".yml", ".json"))


@click.command("next")
@click.argument("targets", nargs=-1, required=True, metavar="FILE...|NAME...")
@click.option("--count", type=click.IntRange(1, 1000), default=5, show_default=True)
@click.option("--after", default=None, help="RFC 3339 time to count from  [default: now]")
@cluster_options_with(
    "Namespace of NAME (default: the context's); for a FILE, the namespace `H` is"
    " hashed with when metadata.namespace is absent (default: default)."
)
@click.pass_context
def next_command(
    ctx: click.Context,
    targets: tuple[str, ...],
    count: int,
    after: str | None,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
) -> None:
    """Print when ScheduledRuns fire next, from files or live on the cluster.

    Each target is a FILE (several YAML documents each; `-` reads stdin) or the NAME of a live
    ScheduledRun in --namespace. Times are those the Kubernetes CronJob controller will fire: in
    UTC (RFC 3339) and in the object's time zone, or `never` for a schedule that cannot fire.
    """
    start = _parse_instant(after)
    files = [t for t in targets if Path(t).exists() or _looks_like_file(t)]
    names = [t for t in targets if t not in files]
    missing = [f for f in files if f != STDIN and not Path(f).exists()]
    if missing:
        _fail_input(ctx, [f"no such file: {f}" for f in missing])
    docs = _read_scheduledruns(ctx, files) if files else []
    others = firings(docs, namespace or "default")
    if names:
        live, neighbours = _cluster_scheduledruns(names, namespace, kubeconfig, context)
        docs += live
        others += firings(neighbours)
    ok = True
    for doc in docs:
        lines, computed = next_lines(doc, start, count, namespace, others)
        ok = ok and computed
        for line in lines:
            click.echo(line)
    ctx.exit(EXIT_OK if ok else EXIT_INVALID)
