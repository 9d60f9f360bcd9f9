"""The REST API's answers and writes, as pure functions: what an answer holds (fire times, a
verdict, a triggered run, an agent target, a refusal), and what a write sends to the cluster.

No I/O here: the routers read from the cluster, call these, and write what they return.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from generator.schedule import load
from generator.schedule.cron import load_time_zone
from generator.schedule.dst import DstNote, dst_notes
from generator.spec.preview import Preview, preview
from generator.spec.validate import Problem
from runner import api
from server.envelope import ApiError

# metadata a client may set; everything else in metadata belongs to the cluster.
CLIENT_METADATA: Final = ("name", "namespace", "labels", "annotations")


def problems_data(problems: Sequence[Problem]) -> list[dict[str, str]]:
    return [dataclasses.asdict(p) for p in problems]


def invalid(problems: Sequence[Problem]) -> ApiError:
    """The 400 answer for an object the validator refuses, every problem named."""
    listed = "; ".join(f"{p.field}: {p.reason}: {p.message}" for p in problems)
    return ApiError(
        400, "Invalid", f"invalid ScheduledRun: {listed}", {"problems": problems_data(problems)}
    )


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fire_times(found: Preview) -> list[dict[str, Any]]:
    """A preview's fire times, in UTC and in the ScheduledRun's time zone."""
    zone = load_time_zone(found.time_zone)
    return [{"time": _stamp(t), "local": t.astimezone(zone).isoformat()} for t in found.times]


def next_runs(obj: Mapping[str, Any], after: datetime, count: int) -> dict[str, Any]:
    """The answer of `.../next`: fire times, or the problems that prevent computing them, as
    `scheduledrun next` finds them (generator/spec/preview.py)."""
    found = preview(obj, after, count)
    answer: dict[str, Any] = {
        "timeZone": found.time_zone,
        "suspended": found.suspended,
        "times": [],
    }
    if found.blocking:
        answer["problems"] = problems_data(found.blocking)
        return answer
    answer["effectiveSchedule"] = found.schedule
    answer["times"], answer["notes"] = fire_times(found), list(found.notes)
    return answer


def dst_data(note: DstNote) -> dict[str, Any]:
    change = note.transition
    return {
        "at": _stamp(change.instant),
        "kind": change.kind,
        "from": change.before.isoformat(),
        "to": change.after.isoformat(),
        "times": [t.isoformat() for t in note.times],
        "more": note.more,
    }


def schedule_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Of a ScheduledRun, only what its fire times depend on (its `H` expansion too)."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(meta, Mapping)
    assert isinstance(spec, Mapping)
    return {
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid") if k in meta},
        "spec": {k: spec[k] for k in ("schedule", "timeZone") if k in spec},
    }


@dataclasses.dataclass(frozen=True)
class Neighbours:
    """The other ScheduledRuns a fire time may share its minute with: those of the object's
    namespace, and of the whole cluster when the caller may list them (None: may not)."""

    namespace: Sequence[Mapping[str, Any]] = ()
    cluster: Sequence[Mapping[str, Any]] | None = None


def share_counts(
    obj: Mapping[str, Any], times: list[dict[str, Any]], neighbours: Neighbours
) -> dict[str, Any]:
    """Each fire time's `shared` (how many other ScheduledRuns of the namespace fire in that
    minute) and `sharedInCluster` (of every namespace, when listable), in place; and the `H`
    form that would spread the schedule when any time is shared."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    own = load.firing(obj, str(meta.get("namespace") or "default"))
    if own is None or not times:
        return {}
    instants = [datetime.fromisoformat(t["time"]) for t in times]

    def counts(objects: Sequence[Mapping[str, Any]]) -> list[int]:
        firings = (load.firing(o) for o in objects)
        return load.sharing(instants, [f for f in firings if f and f.key != own.key])

    for entry, shared in zip(times, counts(neighbours.namespace), strict=True):
        entry["shared"] = shared
    if neighbours.cluster is not None:
        for entry, shared in zip(times, counts(neighbours.cluster), strict=True):
            entry["sharedInCluster"] = shared
    crowded = any(t.get("shared") or t.get("sharedInCluster") for t in times)
    suggestion = load.suggest_hashed(own.written) if crowded else None
    return {"suggestedSchedule": suggestion} if suggestion else {}


def verdict(
    obj: Any, after: datetime, count: int, neighbours: Neighbours | None = None
) -> dict[str, Any]:
    """The answer of `POST /api/scheduledruns/validate`: every problem, the fire times (with how
    many `neighbours` share each one's minute), and the zone's daylight-saving changes of the
    coming year with what they skip or repeat."""
    found = preview(obj, after, count)
    times: list[dict[str, Any]] = []
    dst: list[dict[str, Any]] = []
    if not found.blocking and found.schedule is not None:
        times = fire_times(found)
        # The coming year's changes only: each costs a search of the schedule, and a schedule
        # that fires once in four years would otherwise list decades of them (seconds of work
        # for one request).
        dst = [dst_data(n) for n in dst_notes(found.schedule, found.time_zone, after)]
    shared = share_counts(obj, times, neighbours) if neighbours and not found.problems else {}
    return {
        "valid": not found.problems,
        "problems": problems_data(found.problems),
        "timeZone": found.time_zone,
        "times": times,
        "notes": list(found.notes),
        "dst": dst,
        **shared,
    }


def with_defaults(body: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """A create's body as kagent's UI and scripts send it, completed: `apiVersion` and `kind`
    (the API's own) and `metadata.namespace` (the server's default namespace) when omitted.
    Anything present is kept as sent, for the validator to judge."""
    completed = {"apiVersion": api.API_VERSION, "kind": api.KIND, **body}
    meta = body.get("metadata", {})
    if isinstance(meta, Mapping) and not meta.get("namespace"):
        completed["metadata"] = {**meta, "namespace": namespace}
    return completed


def new_object(body: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """What a create sends: the client's spec and its own metadata fields, nothing else."""
    meta = body.get("metadata") if isinstance(body.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    metadata = {k: meta[k] for k in CLIENT_METADATA if k in meta}
    metadata["namespace"] = namespace
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": metadata,
        "spec": body.get("spec"),
    }


def replacement(
    current: Mapping[str, Any], body: Mapping[str, Any], resource_version: str
) -> dict[str, Any]:
    """What an update PUTs: the stored object with the client's spec (and labels and annotations
    when it sent them), carrying the resourceVersion the client last saw, so the apiserver
    refuses it (409) if anyone wrote in between. Status is the cluster's; it is not sent."""
    metadata = dict(current.get("metadata") or {})
    sent = body.get("metadata") if isinstance(body.get("metadata"), Mapping) else {}
    assert isinstance(sent, Mapping)
    for key in ("labels", "annotations"):
        if key in sent:
            metadata[key] = sent[key]
    metadata["resourceVersion"] = resource_version
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": metadata,
        "spec": body.get("spec"),
    }


def etag(obj: Mapping[str, Any]) -> str:
    return f'"{(obj.get("metadata") or {}).get("resourceVersion", "")}"'


# The apiserver's resourceVersions are etcd revisions, 64-bit signed: a larger number would be
# its 500 (a precondition it cannot parse), so it is the caller's 400 here.
RESOURCE_VERSION_MAX: Final = 2**63 - 1


def resource_version(text: str) -> str:
    """`text` if it can be a resourceVersion of this apiserver, else the 400 ApiError."""
    if not (text.isascii() and text.isdigit() and int(text) <= RESOURCE_VERSION_MAX):
        raise ApiError(400, "BadRequest", f"{text[:40]!r} is not a resourceVersion")
    return text


def if_match_version(header: str | None) -> str | None:
    """The resourceVersion of an If-Match header (`"123"`, `W/"123"` or `123`); `*` is none;
    a number no resourceVersion can be is the 400 ApiError."""
    if header is None:
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return None if value in ("", "*") else resource_version(value)


def agent_target(obj: Mapping[str, Any], kind: str) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    target: dict[str, Any] = {
        "kind": kind,
        "apiGroup": api.TARGET_GROUP,
        "namespace": str(meta.get("namespace", "")),
        "name": str(meta.get("name", "")),
    }
    description = (obj.get("spec") or {}).get("description")
    if isinstance(description, str):
        target["description"] = description
    return target


def triggered_run(
    sr: Mapping[str, Any], job: Mapping[str, Any], replayed: bool, replaced: Sequence[str] = ()
) -> dict[str, Any]:
    """A trigger's answer: the run's history entry, as kagent's trigger answers (the entry the
    history already holds for this Job, else the one the runner will write: Manual, Pending,
    started when the Job was made), with the Job and what this server adds."""
    meta = job.get("metadata") or {}
    job_name = str(meta.get("name", ""))
    history = (sr.get("status") or {}).get("runHistory") or []
    recorded = next(
        (e for e in history if isinstance(e, Mapping) and e.get("id") == job_name), None
    )
    entry: dict[str, Any] = {
        "id": job_name,
        "trigger": "Manual",
        "status": "Pending",
        "startTime": meta.get("creationTimestamp"),
        **(recorded or {}),
    }
    return {
        **entry,
        "namespace": str(meta.get("namespace", "")),
        "scheduledRun": str((sr.get("metadata") or {}).get("name", "")),
        "replayed": replayed,
        "replaced": list(replaced),
        "job": {
            "name": meta.get("name"),
            "uid": meta.get("uid"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
    }
