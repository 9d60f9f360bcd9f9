"""Test objects, built in one place: a ScheduledRun as a user would write it, and the CronJob the
product renders for it.

Each test module names only what its cases are about (`scheduledrun(timeZone="Asia/Tokyo")`) and
takes the rest from here, so a new required field or a renamed key is one change. The CronJob
comes from the renderer itself, never from a copy of its layout, so a test that needs the runner's
pod spec or the Job's podFailurePolicy uses exactly what the operator applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.cronjob.config import OperatorConfig
from generator.cronjob.render import render_cronjob
from runner import api


def scheduledrun(
    name: str = "nightly",
    namespace: str | None = "team-a",
    *,
    schedule: str = "0 * * * *",
    target: str = "k8s-agent",
    kind: str = "Agent",
    api_group: str | None = None,
    prompt: str = "Report.",
    uid: str | None = None,
    generation: int | None = None,
    status: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A ScheduledRun. `spec` adds or replaces spec fields by their API names (`timeZone=...`);
    `namespace=None` leaves it out (the create call names it); `status=None` leaves no status;
    `metadata` adds metadata fields (`resourceVersion`, `creationTimestamp`, ...)."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if uid is not None:
        meta["uid"] = uid
    if generation is not None:
        meta["generation"] = generation
    meta.update(metadata or {})
    target_ref: dict[str, Any] = {"kind": kind, "name": target}
    if api_group is not None:
        target_ref = {"apiGroup": api_group, **target_ref}
    obj: dict[str, Any] = {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": meta,
        "spec": {"schedule": schedule, "targetRef": target_ref, "prompt": prompt, **spec},
    }
    if status is not None:
        obj["status"] = dict(status)
    return obj


def rendered_cronjob(
    sr: Mapping[str, Any] | None = None, config: OperatorConfig | None = None
) -> dict[str, Any]:
    """The CronJob the operator applies for `sr` (default: `scheduledrun()` with a uid)."""
    return render_cronjob(sr or scheduledrun(uid="u-1", generation=1), config or OperatorConfig())


def runner_pod_spec(cronjob: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The pod spec of a rendered CronJob's Jobs: what runs the runner."""
    spec: dict[str, Any] = (cronjob or rendered_cronjob())["spec"]["jobTemplate"]["spec"]
    return dict(spec["template"]["spec"])


def job_spec(cronjob: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Job spec of a rendered CronJob (backoffLimit, podFailurePolicy, template, ...)."""
    return dict((cronjob or rendered_cronjob())["spec"]["jobTemplate"]["spec"])
