"""The ScheduledRun's condition types and reasons: the one list the operator, the CLI, the REST
API and the web UI (through `/api/openapi.json`) take them from.

The CRD's printer columns and its description of `status.conditions` name them too;
tests/unit/test_conditions.py holds the two together. kagent's own controller calls an accepted
ScheduledRun `ScheduleAccepted`, so alerts written for kagent match; the other reasons are this
project's additions (kagent has no pause, stop or conflict).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final


class ConditionType(StrEnum):
    """The conditions the operator writes (`status.conditions[].type`)."""

    ACCEPTED = "Accepted"  # the spec is valid, the target exists: the CronJob may fire
    PAUSED = "Paused"  # spec.pauseAfterFailures holds the schedule (generator/spec/policies.py)
    STOPPED = "Stopped"  # spec.endTime or spec.maxRuns ended the scheduled runs
    # The schedule fires in a minute shared by more ScheduledRuns than the CronJob controller
    # starts in one (generator/operator/hotminute.py); present only while True.
    HOT_MINUTE = "HotMinute"


class Reason(StrEnum):
    """Every reason a condition of `ConditionType` may carry (`status.conditions[].reason`)."""

    # Accepted True.
    SCHEDULE_ACCEPTED = "ScheduleAccepted"
    # Accepted (the CronJob exists, manual runs work) but no date matches the schedule within
    # robfig's five-year search, such as "0 0 30 2 *": flagged, never silent.
    SCHEDULE_NEVER_FIRES = "ScheduleNeverFires"
    # Accepted False: the spec itself is wrong (`SPEC_REASONS`).
    INVALID_SCHEDULE = "InvalidSchedule"
    INVALID_TIME_ZONE = "InvalidTimeZone"
    INVALID_TARGET_REF = "InvalidTargetRef"
    INVALID_SPEC = "InvalidSpec"
    # Accepted False: the spec is fine, the world is not (yet).
    TARGET_NOT_FOUND = "TargetNotFound"
    # A CronJob of the rendered name exists and is not controlled by this ScheduledRun.
    CRONJOB_CONFLICT = "CronJobConflict"
    # The runner's ServiceAccount or RoleBinding in the namespace is not ours to make.
    RUNNER_ACCESS_CONFLICT = "RunnerAccessConflict"
    # Paused.
    PAUSED_AFTER_FAILURES = "PausedAfterFailures"
    BELOW_THRESHOLD = "BelowThreshold"
    # Stopped.
    END_TIME_REACHED = "EndTimeReached"
    MAX_RUNS_REACHED = "MaxRunsReached"
    WITHIN_LIMITS = "WithinLimits"
    # HotMinute.
    ABOVE_CAPACITY = "AboveCapacity"


# Reasons the spec itself is wrong: there is nothing sensible to render into a CronJob.
SPEC_REASONS: Final = frozenset(
    {
        Reason.INVALID_SCHEDULE,
        Reason.INVALID_TIME_ZONE,
        Reason.INVALID_TARGET_REF,
        Reason.INVALID_SPEC,
    }
)

# Which reasons each condition type may carry, True and False together.
REASONS_OF: Final[dict[ConditionType, tuple[Reason, ...]]] = {
    ConditionType.ACCEPTED: (
        Reason.SCHEDULE_ACCEPTED,
        Reason.SCHEDULE_NEVER_FIRES,
        Reason.INVALID_SCHEDULE,
        Reason.INVALID_TIME_ZONE,
        Reason.INVALID_TARGET_REF,
        Reason.INVALID_SPEC,
        Reason.TARGET_NOT_FOUND,
        Reason.CRONJOB_CONFLICT,
        Reason.RUNNER_ACCESS_CONFLICT,
    ),
    ConditionType.PAUSED: (Reason.PAUSED_AFTER_FAILURES, Reason.BELOW_THRESHOLD),
    ConditionType.STOPPED: (
        Reason.END_TIME_REACHED,
        Reason.MAX_RUNS_REACHED,
        Reason.WITHIN_LIMITS,
    ),
    ConditionType.HOT_MINUTE: (Reason.ABOVE_CAPACITY,),
}


class EventReason(StrEnum):
    """Reasons of the operator's events that are no condition's reason (a condition's change is
    posted with the condition's own reason)."""

    RESUMED = "Resumed"  # a pause after failures ended
    CRONJOB_REVERTED = "CronJobReverted"  # fields of an edited CronJob were put back
    MISSED_RUN = "MissedRun"  # scheduled times passed without a Job (generator/operator/missed.py)


# The longest message the operator writes into a condition or an event: enough for every problem
# of a spec, short enough for `kubectl describe` (the CRD allows 32768).
MESSAGE_MAX: Final = 512


def find(status: Mapping[str, Any], type_: ConditionType) -> dict[str, Any] | None:
    """The condition of `type_` in `status` (a copy), None when it has none."""
    for condition in status.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == type_:
            return dict(condition)
    return None
