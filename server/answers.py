"""The REST API's answers and writes, as pure functions: what an answer holds (fire times, a
verdict, a triggered run, an agent target, a refusal), and what a write sends to the cluster.

No I/O here: the routers read from the cluster, call these, and write what they return.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from generator.schedule.cron import CronError, load_time_zone, next_fire_times
from generator.schedule.dst import DstNote, dst_notes
from generator.schedule.hashed import HashError, effective_schedule, has_hash
from generator.spec.policies import upcoming
from generator.spec.validate import Problem, validate_scheduledrun
from runner import api, spec_fields
from runner.conditions import Reason
from server.envelope import ApiError

# Problems that make fire times impossible to compute (as for `scheduledrun next`).
_TIME_FIELDS: Final = ("spec.schedule", "spec.timeZone")
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


def schedule_of(obj: Mapping[str, Any]) -> str:
    """The schedule the CronJob carries: `H` expanded for the object's namespace (`default`
    when it has none, as `scheduledrun next` assumes) and name, as the operator expands it."""
    schedule = str(obj["spec"]["schedule"])
    if not has_hash(schedule):
        return schedule
    meta = dict(obj.get("metadata") or {})
    meta.setdefault("namespace", "default")
    return effective_schedule({**obj, "metadata": meta})


def fire_times(
    obj: Mapping[str, Any], after: datetime, count: int
) -> tuple[list[dict[str, str]], list[str]]:
    """The next `count` fire times of a valid schedule, in UTC and in its time zone, exactly as
    `scheduledrun next` computes them: only those the policies let fire (endTime, maxRuns, a
    pause after failures), with notes saying why others will not."""
    spec = obj["spec"]
    time_zone = spec_fields.time_zone(spec)
    zone = load_time_zone(time_zone)
    times, notes = upcoming(obj, next_fire_times(schedule_of(obj), time_zone, after, count))
    return [{"time": _stamp(t), "local": t.astimezone(zone).isoformat()} for t in times], notes


def next_runs(obj: Mapping[str, Any], after: datetime, count: int) -> dict[str, Any]:
    """The answer of `.../next`: fire times, or the problems that prevent computing them."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    answer: dict[str, Any] = {
        "timeZone": spec_fields.time_zone(spec),
        "suspended": spec_fields.suspend(spec),
        "times": [],
    }
    blocking = [
        p
        for p in validate_scheduledrun(obj)
        if p.field in ("", "spec") or p.field.startswith(_TIME_FIELDS)
    ]
    if blocking:
        answer["problems"] = problems_data(blocking)
        return answer
    try:
        answer["effectiveSchedule"] = schedule_of(obj)
        answer["times"], answer["notes"] = fire_times(obj, after, count)
    except (CronError, HashError) as exc:
        answer["problems"] = [
            {"reason": Reason.INVALID_SCHEDULE, "field": "spec.schedule", "message": str(exc)}
        ]
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


def verdict(obj: Any, after: datetime, count: int) -> dict[str, Any]:
    """The answer of `POST /api/scheduledruns/validate`: every problem, the fire times, and the
    zone's daylight-saving changes of the coming year with what they skip or repeat."""
    problems = validate_scheduledrun(obj)
    spec = obj.get("spec") if isinstance(obj, Mapping) else None
    times: list[dict[str, str]] = []
    notes: list[str] = []
    dst: list[dict[str, Any]] = []
    time_zone = spec_fields.DEFAULT_TIME_ZONE
    if isinstance(spec, Mapping):
        time_zone = spec_fields.time_zone(spec)
        if not any(p.field.startswith(_TIME_FIELDS) for p in problems):
            try:
                times, notes = fire_times(obj, after, count)
                last = datetime.fromisoformat(times[-1]["time"]) if times else after
                dst = [dst_data(n) for n in dst_notes(schedule_of(obj), time_zone, after, last)]
            except (CronError, HashError, KeyError):
                times = []
    return {
        "valid": not problems,
        "problems": problems_data(problems),
        "timeZone": time_zone,
        "times": times,
        "notes": notes,
        "dst": dst,
    }


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


def if_match_version(header: str | None) -> str | None:
    """The resourceVersion of an If-Match header (`"123"`, `W/"123"` or `123`); `*` is none."""
    if header is None:
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return None if value in ("", "*") else value


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
    meta = job.get("metadata") or {}
    return {
        "id": str(meta.get("name", "")),
        "namespace": str(meta.get("namespace", "")),
        "scheduledRun": str((sr.get("metadata") or {}).get("name", "")),
        "trigger": "Manual",
        "replayed": replayed,
        "replaced": list(replaced),
        "job": {
            "name": meta.get("name"),
            "uid": meta.get("uid"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
    }
