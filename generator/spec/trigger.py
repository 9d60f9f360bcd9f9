"""A manual run ("run it now"): may it start, and the Job that carries it.

Pure, shared by `scheduledrun trigger` and the REST API's trigger route, so that both refuse the
same ScheduledRuns for the same reasons:
- not Accepted: its target is missing or its spec is wrong, so a run would only fail (or, with a
  stale CronJob, send the prompt to the wrong place);
- `concurrencyPolicy: Forbid` while one of its Jobs is still running: a second run would overlap
  the first against the same agent, which is what Forbid exists to prevent;
- `Replace` replaces: the running Jobs are deleted first, as the CronJob controller does.
`force` overrides the first two (it cannot make a Job without a CronJob).

`manual_job` builds exactly what `kubectl create job --from=cronjob/X` builds, which bypasses
these checks, as it does for any CronJob.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from runner import api, conditions, spec_fields, trace
from runner.conditions import ConditionType

# Reasons of a refusal (machine-readable; the message says it for people).
NO_CRONJOB: Final = "NoCronJob"
NOT_ACCEPTED: Final = "NotAccepted"
CONCURRENCY_FORBIDDEN: Final = "ConcurrencyForbidden"


@dataclass(frozen=True)
class TriggerDecision:
    """Whether a manual run may start; if not, why; if so, which running Jobs to delete first."""

    allowed: bool
    reason: str = ""
    message: str = ""
    replace: tuple[str, ...] = field(default_factory=tuple)


def _accepted(sr: Mapping[str, Any]) -> tuple[bool, str]:
    condition = conditions.find(sr.get("status") or {}, ConditionType.ACCEPTED)
    if condition is None:
        return False, "the operator has not judged it yet"
    why = f"{condition.get('reason') or 'unknown'}: {condition.get('message') or ''}"
    return condition.get("status") == "True", why.rstrip(": ")


def decide_trigger(
    sr: Mapping[str, Any], active_jobs: Iterable[str], force: bool = False
) -> TriggerDecision:
    """May a manual run of `sr` start now, given the names of its CronJob's unfinished Jobs?

    A Job whose run the history already records as ended is not counted: its runner has
    finished with the agent and the pod is only exiting (the Job's Complete condition follows
    a few seconds later), so neither Forbid nor Replace has anything left to protect."""
    name = (sr.get("metadata") or {}).get("name", "")
    accepted, why = _accepted(sr)
    if not accepted and not force:
        return TriggerDecision(False, NOT_ACCEPTED, f'scheduledrun "{name}" is not Accepted: {why}')
    if not (sr.get("status") or {}).get("cronJobName"):
        return TriggerDecision(
            False,
            NO_CRONJOB,
            f'scheduledrun "{name}" has no CronJob yet (kubectl describe sr {name})',
        )
    ended = {
        entry.get("id")
        for entry in (sr.get("status") or {}).get("runHistory") or []
        if entry.get("status") in api.TERMINAL_STATUSES
    }
    active = tuple(sorted(job for job in active_jobs if job not in ended))
    policy = spec_fields.concurrency_policy(sr.get("spec") or {})
    if active and policy == "Forbid" and not force:
        return TriggerDecision(
            False,
            CONCURRENCY_FORBIDDEN,
            f'scheduledrun "{name}" has concurrencyPolicy Forbid and a run is active: '
            f"{', '.join(active)}",
        )
    return TriggerDecision(True, replace=active if policy == "Replace" else ())


def job_finished(job: Mapping[str, Any]) -> bool:
    """A Job is finished once it has a true Complete or Failed condition."""
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


def active_jobs(jobs: Iterable[Mapping[str, Any]], cronjob_uid: str) -> list[str]:
    """Names of the unfinished Jobs owned by the CronJob with this uid."""
    return [
        str((job.get("metadata") or {}).get("name"))
        for job in owned_jobs(jobs, cronjob_uid)
        if not job_finished(job) and not (job.get("metadata") or {}).get("deletionTimestamp")
    ]


def manual_job(
    cronjob: Mapping[str, Any], job_name: str, annotations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The Job `kubectl create job --from=cronjob/X` creates: the CronJob's job template, the
    `manual` instantiate annotation (the runner records the run as Manual), owned by the CronJob
    so its history limits and deletion cover it."""
    template = cronjob["spec"]["jobTemplate"]
    meta = template.get("metadata") or {}
    merged = {
        **(meta.get("annotations") or {}),
        **(annotations or {}),
        api.ANNOTATION_INSTANTIATE: "manual",
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name,
            "namespace": cronjob["metadata"]["namespace"],
            "labels": dict(meta.get("labels") or {}),
            "annotations": merged,
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": cronjob["metadata"]["name"],
                    "uid": cronjob["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": template["spec"],
    }


def caller_trace(traceparent: str | None) -> dict[str, str]:
    """The Job annotation that makes the run join its caller's trace (a W3C `traceparent`);
    nothing for a missing or invalid one: the run then starts a trace of its own."""
    if traceparent is None or trace.parse_traceparent(traceparent) is None:
        return {}
    return {api.ANNOTATION_TRACEPARENT: traceparent.strip()}


def manual_job_name(cronjob_name: str, suffix: str) -> str:
    """`<cronjob>-manual-<suffix>`, cut so the whole stays a valid 63-character label value."""
    tail = f"-manual-{suffix}"
    return cronjob_name[: 63 - len(tail)].rstrip("-.") + tail


def owned_jobs(jobs: Iterable[Mapping[str, Any]], cronjob_uid: str) -> list[Mapping[str, Any]]:
    return [
        job
        for job in jobs
        if any(
            o.get("uid") == cronjob_uid
            for o in (job.get("metadata") or {}).get("ownerReferences") or []
        )
    ]


def earlier_run(
    jobs: Iterable[Mapping[str, Any]], cronjob_uid: str, key: str
) -> Mapping[str, Any] | None:
    """The Job a trigger with this Idempotency-Key already made, among the CronJob's Jobs."""
    digest = idempotency_digest(key)
    for job in owned_jobs(jobs, cronjob_uid):
        if ((job.get("metadata") or {}).get("annotations") or {}).get(
            api.ANNOTATION_IDEMPOTENCY_KEY
        ) == digest:
            return job
    return None


def run_name(
    sr: Mapping[str, Any],
    cronjob: Mapping[str, Any],
    jobs: Iterable[Mapping[str, Any]],
    force: bool,
    key: str | None,
    suffix: str,
) -> str:
    """The name of a manual run's Job, chosen so that a race is settled by the apiserver:
    - under Forbid, one name per state of the CronJob's Jobs (a hash of their names): two
      triggers that both saw no active run pick the same name, and only one Job is created;
    - with an Idempotency-Key, one name per key and ScheduledRun, so a retry collides with the
      first attempt's Job;
    - otherwise `suffix` (random), as `kubectl create job --from` users name theirs."""
    cronjob_name = str(cronjob["metadata"]["name"])
    policy = spec_fields.concurrency_policy(sr.get("spec") or {})
    if policy == "Forbid" and not force:
        seen = sorted(
            str((j.get("metadata") or {}).get("name"))
            for j in owned_jobs(jobs, str(cronjob["metadata"]["uid"]))
        )
        state = hashlib.sha256("\0".join([str(cronjob["metadata"]["uid"]), *seen]).encode())
        return manual_job_name(cronjob_name, state.hexdigest()[:10])
    if key is not None:
        return idempotent_job_name(cronjob_name, str((sr.get("metadata") or {}).get("uid")), key)
    return manual_job_name(cronjob_name, suffix)


def idempotency_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def idempotent_job_name(cronjob_name: str, scheduledrun_uid: str, key: str) -> str:
    """The one Job name a trigger with this Idempotency-Key may create for this ScheduledRun
    (its uid: a deleted and re-created ScheduledRun of the same name starts afresh), so a retry
    collides with the first attempt's Job instead of starting a second run."""
    digest = hashlib.sha256(f"{scheduledrun_uid}\0{key}".encode()).hexdigest()
    return manual_job_name(cronjob_name, digest[:10])
