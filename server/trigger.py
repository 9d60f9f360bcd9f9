"""`POST .../trigger`: a manual run, with the rules of `scheduledrun trigger`
(generator.spec.trigger) and an Idempotency-Key, settled by the apiserver rather than by any state
of this server.

Read the ScheduledRun, its CronJob and the CronJob's Jobs; a Job already made with this key is
the answer (200). Otherwise decide; create the Job under a name that makes racing requests
collide (generator.spec.trigger.run_name): the loser of a race under one key answers with the
winner's Job, the loser of a race under Forbid is refused like any second run.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.spec.trigger import (
    CONCURRENCY_FORBIDDEN,
    active_jobs,
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


def _selector(cronjob: Mapping[str, Any]) -> str:
    labels = (cronjob["spec"]["jobTemplate"].get("metadata") or {}).get("labels") or {}
    return f"{api.LABEL_SCHEDULEDRUN}={labels.get(api.LABEL_SCHEDULEDRUN, '')}"


async def trigger(
    client: KubeClient, namespace: str, name: str, force: bool, key: str | None
) -> Started:
    sr = await client.get_scheduledrun(namespace, name)
    cronjob_name = str((sr.get("status") or {}).get("cronJobName") or "")
    cronjob: dict[str, Any] = {}
    jobs: list[dict[str, Any]] = []
    if cronjob_name:
        cronjob = await client.get_cronjob(namespace, cronjob_name)
        jobs = await client.list_jobs(namespace, _selector(cronjob))
        if key is not None:
            earlier = earlier_run(jobs, cronjob["metadata"]["uid"], key)
            if earlier is not None:
                return Started(200, answers.triggered_run(sr, earlier, True))
    running = active_jobs(jobs, cronjob["metadata"]["uid"]) if cronjob else []
    decision = decide_trigger(sr, running, force=force)
    if not decision.allowed:
        raise ApiError(409, decision.reason, decision.message)
    for old in decision.replace:
        await client.delete_job(namespace, old)
    annotations = {} if key is None else {api.ANNOTATION_IDEMPOTENCY_KEY: idempotency_digest(key)}
    job_name = run_name(sr, cronjob, jobs, force, key, secrets.token_hex(3))
    try:
        created = await client.create_job(namespace, manual_job(cronjob, job_name, annotations))
    except KubeError as exc:
        if exc.status != 409:
            raise
        return await _lost_race(client, sr, namespace, job_name, key, exc)
    return Started(201, answers.triggered_run(sr, created, False, decision.replace))


async def _lost_race(
    client: KubeClient,
    sr: Mapping[str, Any],
    namespace: str,
    job_name: str,
    key: str | None,
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
    if key is not None and have == idempotency_digest(key):
        return Started(200, answers.triggered_run(sr, winner, True))
    if spec_fields.concurrency_policy(sr.get("spec") or {}) == "Forbid":
        raise ApiError(
            409,
            CONCURRENCY_FORBIDDEN,
            f'scheduledrun "{sr["metadata"]["name"]}" has concurrencyPolicy Forbid and a run '
            f"was started at the same moment: {job_name}",
        )
    raise error
