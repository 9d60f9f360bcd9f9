"""`POST .../trigger`: a manual run, with the rules of `scheduledrun trigger`
(generator.spec.trigger) and an Idempotency-Key, settled by the apiserver rather than by any state
of this server.

Read the ScheduledRun, its CronJob and the CronJob's Jobs; a Job already made with this key is
the answer (200), if it was made for the same request (force flag and body; the key reused for
another request is refused with 422, as the IETF Idempotency-Key draft says). Otherwise
decide; create the Job under a name that makes racing requests collide
(generator.spec.trigger.run_name): the loser of a race under one key answers with the winner's
Job, the loser of a race under Forbid is refused like any second run.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.spec.trigger import (
    CONCURRENCY_FORBIDDEN,
    active_jobs,
    caller_trace,
    decide_trigger,
    earlier_run,
    idempotency_digest,
    manual_job,
    run_name,
)
from runner import api, spec_fields
from runner.kube import KubeError
from server import answers
from server.envelope import ApiError
from server.kube import KubeClient


@dataclass(frozen=True)
class Started:
    status: int  # 201: started now; 200: started earlier with this Idempotency-Key
    run: dict[str, Any]


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key and the digest of the request it came with (`request_digest`)."""

    key: str
    request: str


def request_digest(force: bool, body: Any) -> str:
    """The SHA-256 of what a trigger asks: its force flag and its JSON body (None: none), keys
    sorted, so the same request sent again has the same digest."""
    canonical = json.dumps({"force": force, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _replay(sr: Mapping[str, Any], job: Mapping[str, Any], once: Idempotency) -> Started:
    """The run an earlier request with this key started; 422 if that was another request (a Job
    made before requests were recorded passes)."""
    sent = ((job.get("metadata") or {}).get("annotations") or {}).get(
        api.ANNOTATION_IDEMPOTENCY_REQUEST
    )
    if sent is not None and sent != once.request:
        raise ApiError(
            422,
            "IdempotencyKeyReused",
            "this Idempotency-Key was sent before with another request (another body or force "
            "flag): send a new key for a new request",
        )
    return Started(200, answers.triggered_run(sr, job, True))


def _selector(cronjob: Mapping[str, Any]) -> str:
    labels = (cronjob["spec"]["jobTemplate"].get("metadata") or {}).get("labels") or {}
    return f"{api.LABEL_SCHEDULEDRUN}={labels.get(api.LABEL_SCHEDULEDRUN, '')}"


async def trigger(
    client: KubeClient,
    namespace: str,
    name: str,
    force: bool,
    once: Idempotency | None,
    traceparent: str | None = None,
) -> Started:
    key = None if once is None else once.key
    sr = await client.get_scheduledrun(namespace, name)
    cronjob_name = str((sr.get("status") or {}).get("cronJobName") or "")
    cronjob: dict[str, Any] = {}
    jobs: list[dict[str, Any]] = []
    if cronjob_name:
        cronjob = await client.get_cronjob(namespace, cronjob_name)
        jobs = await client.list_jobs(namespace, _selector(cronjob))
        if once is not None:
            earlier = earlier_run(jobs, cronjob["metadata"]["uid"], once.key)
            if earlier is not None:
                return _replay(sr, earlier, once)
    running = active_jobs(jobs, cronjob["metadata"]["uid"]) if cronjob else []
    decision = decide_trigger(sr, running, force=force)
    if not decision.allowed:
        raise ApiError(409, decision.reason, decision.message)
    for old in decision.replace:
        await client.delete_job(namespace, old)
    # The caller's trace context (a `traceparent` header), so the run joins the caller's trace.
    annotations = caller_trace(traceparent)
    if once is not None:
        annotations |= {
            api.ANNOTATION_IDEMPOTENCY_KEY: idempotency_digest(once.key),
            api.ANNOTATION_IDEMPOTENCY_REQUEST: once.request,
        }
    job_name = run_name(sr, cronjob, jobs, force, key, secrets.token_hex(3))
    try:
        created = await client.create_job(namespace, manual_job(cronjob, job_name, annotations))
    except KubeError as exc:
        if exc.status != 409:
            raise
        return await _lost_race(client, sr, namespace, job_name, once, exc)
    return Started(201, answers.triggered_run(sr, created, False, decision.replace))


async def _lost_race(
    client: KubeClient,
    sr: Mapping[str, Any],
    namespace: str,
    job_name: str,
    once: Idempotency | None,
    error: KubeError,
) -> Started:
    """Another request created `job_name` first: the same key's run, or the run Forbid keeps
    alone."""
    try:
        winner = await client.get_job(namespace, job_name)
    except KubeError:
        raise error from None
    have = ((winner.get("metadata") or {}).get("annotations") or {}).get(
        api.ANNOTATION_IDEMPOTENCY_KEY
    )
    if once is not None and have == idempotency_digest(once.key):
        return _replay(sr, winner, once)
    if spec_fields.concurrency_policy(sr.get("spec") or {}) == "Forbid":
        raise ApiError(
            409,
            CONCURRENCY_FORBIDDEN,
            f'scheduledrun "{sr["metadata"]["name"]}" has concurrencyPolicy Forbid and a run '
            f"was started at the same moment: {job_name}",
        )
    raise error
