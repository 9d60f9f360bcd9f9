"""What the operator knows of the cluster besides each ScheduledRun itself, kept in memory.

Which Agents and SandboxAgents exist, the operator's CronJobs (spec hash, suspended, created) and
runner Jobs (how they finished), and which ScheduledRuns point at a target or carry a label value.
Filled by a listing at start-up, then kept current by the watch handlers. Plain dicts of small
frozen records rather than kopf indexes: kopf holds every object's handlers until all indexes are
filled, which forbids limiting its workers, and the worker limit is what bounds the operator's
memory in a burst (see kopf_settings.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from generator.cronjob import render
from generator.operator.plan import CronJobState, owner_uid, target_key
from generator.operator.sweep import JobState, job_state
from runner import api
from runner.api import ObjectKey

TargetKey = tuple[str, str, str]  # namespace, kind, name


# The parts of a live CronJob the operator renders (besides its name): what drift is judged on.
_KEPT_METADATA = ("labels", "annotations", "ownerReferences")
# Of its labels and annotations, the names the operator renders (generator/cronjob/render.py, and
# plan.py's spec hash): drift is judged on those alone, so others' (a tenant's 256 KiB of
# annotations on each CronJob) are never kept. tests/unit/test_cache.py pins it to a render.
RENDERED_NAMES: Final = frozenset(
    {
        api.LABEL_SCHEDULEDRUN,
        api.LABEL_COMPONENT,
        "app.kubernetes.io/name",
        "app.kubernetes.io/managed-by",
        "app.kubernetes.io/part-of",
        api.ANNOTATION_SCHEDULEDRUN_NAME,
        api.ANNOTATION_GENERATION,
        api.ANNOTATION_SPEC_HASH,
    }
)


def _rendered(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {k: v for k, v in value.items() if k in RENDERED_NAMES}


def cronjob_state(body: Mapping[str, Any]) -> CronJobState:
    meta = body.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    kept_meta = {k: meta[k] for k in _KEPT_METADATA if k in meta}
    for names in ("labels", "annotations"):
        if names in kept_meta:
            kept_meta[names] = _rendered(kept_meta[names])
    kept = {"metadata": kept_meta, "spec": body.get("spec") or {}}
    encoded = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)
    live = encoded.decode("utf-8")
    return CronJobState(
        str(meta.get("name", "")),
        annotations.get(api.ANNOTATION_SPEC_HASH),
        bool((body.get("spec") or {}).get("suspend")),
        meta.get("creationTimestamp"),
        live,
        hashlib.sha256(encoded).hexdigest()[:16],
        owner_uid(body),
        (body.get("status") or {}).get("lastScheduleTime"),
    )


def _older(incoming: Mapping[str, Any], known: str | None) -> bool:
    """Whether `incoming` is an older version than the one known: an apply's response can be
    noted before the watch delivers the edit it overwrote. resourceVersions are etcd revisions
    (decimal); anything else is never called older."""
    version = str((incoming.get("metadata") or {}).get("resourceVersion") or "")
    return version.isdigit() and (known or "").isdigit() and int(version) < int(known or "0")


@dataclass
class ClusterCache:
    targets: set[TargetKey] = field(default_factory=set)
    cronjobs: dict[ObjectKey, CronJobState] = field(default_factory=dict)
    cronjob_versions: dict[ObjectKey, str] = field(default_factory=dict)
    jobs: dict[ObjectKey, dict[str, JobState]] = field(default_factory=dict)  # (ns, label) -> jobs
    target_of: dict[ObjectKey, TargetKey] = field(default_factory=dict)
    by_target: dict[TargetKey, set[str]] = field(default_factory=dict)
    by_label: dict[ObjectKey, str] = field(default_factory=dict)  # (ns, label value) -> name
    # Objects known only from the start-up listing, not yet from a watch event: one deleted in
    # between would never send its DELETED event, so `drop_unconfirmed` forgets them later.
    unconfirmed: set[tuple[str, ...]] = field(default_factory=set)

    # Questions

    def target_exists(self, key: TargetKey | None) -> bool:
        return key is not None and key in self.targets

    def cronjob(self, namespace: str, name: str) -> CronJobState | None:
        return self.cronjobs.get((namespace, name))

    def jobs_of(self, namespace: str, scheduledrun: str) -> dict[str, JobState]:
        return dict(self.jobs.get((namespace, render.label_value(scheduledrun)), {}))

    def scheduledruns_targeting(self, key: TargetKey) -> list[str]:
        return sorted(self.by_target.get(key, ()))

    def scheduledrun_labelled(self, namespace: str, label: str) -> str | None:
        return self.by_label.get((namespace, label))

    # Updates from watch events (present=False: the object was deleted)

    def note_target(
        self, namespace: str, kind: str, name: str, present: bool, listed: bool = False
    ) -> bool:
        """Returns whether the target's existence changed."""
        self._confirm(("target", namespace, kind, name), listed)
        key = (namespace, kind, name)
        changed = (key in self.targets) != present
        if present:
            self.targets.add(key)
        else:
            self.targets.discard(key)
        return changed

    def note_cronjob(
        self, namespace: str, body: Mapping[str, Any], present: bool, listed: bool = False
    ) -> bool:
        """Returns whether what the operator renders changed (not only the CronJob's status)."""
        meta = body.get("metadata") or {}
        key = (namespace, str(meta.get("name", "")))
        self._confirm(("cronjob", *key), listed)
        if not present:
            self.cronjob_versions.pop(key, None)
            return self.cronjobs.pop(key, None) is not None
        known = self.cronjob_versions.get(key)
        if _older(body, known) or (known and meta.get("resourceVersion") == known):
            return False  # older, or this very version (a write's response, then its event)
        state = cronjob_state(body)
        self.cronjob_versions[key] = str((body.get("metadata") or {}).get("resourceVersion", ""))
        before = self.cronjobs.get(key)
        self.cronjobs[key] = state
        return before is None or before.digest != state.digest

    def settle_cronjob(self, namespace: str, name: str) -> CronJobState | None:
        """The CronJob is known to match what the operator renders: keep its digest and drop its
        live text (kilobytes per CronJob, read only to say what an edit changed; an edit comes
        with a new body, noted in full). The state, or None when the CronJob is not known."""
        state = self.cronjobs.get((namespace, name))
        if state is not None and state.live is not None:
            state = self.cronjobs[(namespace, name)] = dataclasses.replace(state, live=None)
        return state

    def note_job(
        self, namespace: str, body: Mapping[str, Any], present: bool, listed: bool = False
    ) -> None:
        labels = (body.get("metadata") or {}).get("labels") or {}
        key = (namespace, str(labels.get(api.LABEL_SCHEDULEDRUN, "")))
        state = job_state(body)
        self._confirm(("job", *key, state.name), listed)
        jobs = self.jobs.setdefault(key, {})
        if present:
            jobs[state.name] = state
        else:
            jobs.pop(state.name, None)
        if not jobs:
            del self.jobs[key]

    def note_scheduledrun(self, body: Mapping[str, Any], present: bool) -> None:
        meta = body.get("metadata") or {}
        key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
        old = self.target_of.pop(key, None)
        if old is not None:
            names = self.by_target.get(old, set())
            names.discard(key[1])
            if not names:
                self.by_target.pop(old, None)
        label = (key[0], render.label_value(key[1]))
        if not present:
            self.by_label.pop(label, None)
            return
        self.by_label[label] = key[1]
        target = target_key(body)
        if target is not None:
            self.target_of[key] = target
            self.by_target.setdefault(target, set()).add(key[1])

    def _confirm(self, key: tuple[str, ...], listed: bool) -> None:
        if listed:
            self.unconfirmed.add(key)
        else:
            self.unconfirmed.discard(key)

    def drop_unconfirmed(self) -> list[ObjectKey]:
        """Forget what only the start-up listing saw; the ScheduledRuns to look at again."""
        affected: set[ObjectKey] = set()
        for kind, namespace, *rest in self.unconfirmed:
            if kind == "target":
                self.targets.discard((namespace, rest[0], rest[1]))
                target = (namespace, rest[0], rest[1])
                affected.update((namespace, n) for n in self.by_target.get(target, ()))
            elif kind == "cronjob":
                state = self.cronjobs.pop((namespace, rest[0]), None)
                self.cronjob_versions.pop((namespace, rest[0]), None)
                owner = self.by_label.get((namespace, rest[0])) if state else None
                affected.update([(namespace, owner)] if owner else [])
            else:
                jobs = self.jobs.get((namespace, rest[0]), {})
                jobs.pop(rest[1], None)
                owner = self.by_label.get((namespace, rest[0]))
                affected.update([(namespace, owner)] if owner else [])
        self.unconfirmed.clear()
        return sorted(affected)
