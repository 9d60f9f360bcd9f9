"""The sweep of `Pending` history entries whose runner will never finish them.

A runner writes its own terminal entry; but a pod killed by its Job's deadline, a Job deleted
mid-run, or a Job that ran out of retries leaves the entry `Pending`. Given the history and the
Jobs the cluster cache holds, these pure functions say which entries to end and how, so no entry
stays `Pending` forever. The controller confirms a vanished Job with a read, and `plan.make_plan`
folds the confirmed resolutions into its one status write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from runner import api, conditions, history

JOB_GONE_MESSAGE: Final = "job deleted before the runner finished"
NOT_A_JOB_MESSAGE: Final = "the entry's id is not a Job name, so no Job can finish it"
_JOB_NAME = re.compile(api.NAME_PATTERN)


def bounded(text: str) -> str:
    """`text` cut to what an entry message written by the operator may hold."""
    return history.truncate_message(text, conditions.MESSAGE_MAX)


def is_job_name(text: str) -> bool:
    """Whether `text` can name a Job (the only ids a runner writes)."""
    return len(text) <= api.JOB_NAME_MAX and _JOB_NAME.fullmatch(text) is not None


@dataclass(frozen=True)
class JobState:
    """A runner Job as the operator's cache last saw it: `failed` is the reason of its Failed
    condition (DeadlineExceeded, BackoffLimitExceeded, PodFailurePolicy, ...) or "" while it has
    none."""

    name: str
    failed: str = ""
    message: str = ""
    complete: bool = False
    scheduled: str | None = None  # the tick the CronJob controller made it for (None: manual)


@dataclass(frozen=True)
class Resolution:
    """A `Pending` entry to end: its Job failed (`job_gone` False) or is gone (`job_gone` True,
    to be confirmed with a read before writing, since the cache may lag a fresh Job)."""

    entry_id: str
    status: api.RunStatus
    message: str
    job_gone: bool


def job_state(job: Mapping[str, Any]) -> JobState:
    """The cache's view of a Job: its name and how (if) it finished."""
    failed, message, complete = "", "", False
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Failed":
            failed = str(condition.get("reason") or "Failed")
            message = str(condition.get("message") or "")
        elif condition.get("type") == "Complete":
            complete = True
    meta = job.get("metadata") or {}
    scheduled = (meta.get("annotations") or {}).get(api.ANNOTATION_SCHEDULED_TIME)
    return JobState(str(meta.get("name", "")), failed, message, complete, scheduled)


def resolution_for(entry_id: str, job: JobState | None) -> Resolution | None:
    """How a `Pending` entry ends given its Job, or None while the Job may still finish it."""
    if job is None:
        return Resolution(entry_id, "Failed", JOB_GONE_MESSAGE, job_gone=True)
    if job.failed == "DeadlineExceeded":
        text = f"DeadlineExceeded: {job.message}" if job.message else "DeadlineExceeded"
        return Resolution(entry_id, "Timeout", bounded(text), job_gone=False)
    if job.failed:
        text = f"{job.failed}: {job.message}" if job.message else job.failed
        return Resolution(entry_id, "Failed", bounded(text), job_gone=False)
    if job.complete:  # exit 0 means the runner wrote its outcome; a Pending left is a lost write
        text = "job completed but the runner recorded no outcome"
        return Resolution(entry_id, "Failed", text, job_gone=False)
    return None


def pending_resolutions(
    run_history: Sequence[Mapping[str, Any]], jobs: Mapping[str, JobState]
) -> list[Resolution]:
    """The `Pending` entries whose Job failed, completed or is gone."""
    found = []
    for entry in run_history:
        if entry.get("status") != "Pending":
            continue
        entry_id = str(entry.get("id", ""))
        if not is_job_name(entry_id):  # written by hand: never looked up (it is no name)
            found.append(Resolution(entry_id, "Failed", NOT_A_JOB_MESSAGE, job_gone=False))
            continue
        resolution = resolution_for(entry_id, jobs.get(entry_id))
        if resolution is not None:
            found.append(resolution)
    return found


def resolve(
    status: Mapping[str, Any], resolutions: Sequence[Resolution], now: datetime
) -> dict[str, Any] | None:
    """The status fields (`runHistory`, `lastRun*`) with these entries ended at `now`, or None when
    none of them is still `Pending` in `status` (the runner got there first)."""
    run_history = [dict(e) for e in status.get("runHistory") or [] if history.possible(e, now)]
    changed = False
    for resolution in resolutions:
        entry = history.find(run_history, resolution.entry_id)
        if entry is None or entry.get("status") != "Pending":
            continue
        ended = history.finished(entry, resolution.status, resolution.message, now)
        run_history = history.upsert(run_history, ended)
        changed = True
    if not changed:
        return None
    return {"runHistory": run_history, **history.last_run(run_history)}
