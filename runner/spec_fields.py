"""The ScheduledRun spec's fields and the defaults the CRD gives them, and the one way to read a
field that has a default.

The CRD (charts/kagent-scheduledrun/crds/scheduledruns.yaml) is the schema and sets these
defaults at admission; this module holds the same values for the code that reads a spec the API
server has not defaulted (a file given to `scheduledrun validate`, a body given to the REST API's
validate route, a unit test's object). tests/unit/test_spec_fields.py holds the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Every field of spec, in the CRD's order.
SPEC_FIELDS: Final = (
    "schedule",
    "timeZone",
    "targetRef",
    "prompt",
    "suspend",
    "concurrencyPolicy",
    "startingDeadlineSeconds",
    "timeout",
    "maxRunHistory",
    "pauseAfterFailures",
    "endTime",
    "maxRuns",
    "includePreviousRun",
    "promptVariables",
    "delivery",
)
# Every field of spec.targetRef a ScheduledRun may set (the CRD also declares `namespace`, only
# to refuse it with a message that says why).
TARGET_REF_FIELDS: Final = ("apiGroup", "kind", "name")
CONCURRENCY_POLICIES: Final = ("Allow", "Forbid", "Replace")

DEFAULT_TIME_ZONE: Final = "UTC"
DEFAULT_SUSPEND: Final = False
# An agent run that overlaps the next tick is usually stuck, and overlap doubles the cost.
DEFAULT_CONCURRENCY_POLICY: Final = "Forbid"
DEFAULT_TIMEOUT: Final = "15m"
DEFAULT_MAX_RUN_HISTORY: Final = 10
DEFAULT_INCLUDE_PREVIOUS_RUN: Final = False
DEFAULT_PROMPT_VARIABLES: Final = False

# The CRD's `default:` of each spec field that has one.
DEFAULTS: Final[Mapping[str, object]] = {
    "timeZone": DEFAULT_TIME_ZONE,
    "suspend": DEFAULT_SUSPEND,
    "concurrencyPolicy": DEFAULT_CONCURRENCY_POLICY,
    "timeout": DEFAULT_TIMEOUT,
    "maxRunHistory": DEFAULT_MAX_RUN_HISTORY,
    "includePreviousRun": DEFAULT_INCLUDE_PREVIOUS_RUN,
    "promptVariables": DEFAULT_PROMPT_VARIABLES,
}


def time_zone(spec: Mapping[str, Any]) -> str:
    return str(spec.get("timeZone") or DEFAULT_TIME_ZONE)


def suspend(spec: Mapping[str, Any]) -> bool:
    return spec.get("suspend", DEFAULT_SUSPEND) is True


def concurrency_policy(spec: Mapping[str, Any]) -> str:
    return str(spec.get("concurrencyPolicy") or DEFAULT_CONCURRENCY_POLICY)


def timeout(spec: Mapping[str, Any]) -> str:
    return str(spec.get("timeout") or DEFAULT_TIMEOUT)


def max_run_history(spec: Mapping[str, Any]) -> int:
    return int(spec.get("maxRunHistory") or DEFAULT_MAX_RUN_HISTORY)


def include_previous_run(spec: Mapping[str, Any]) -> bool:
    return spec.get("includePreviousRun", DEFAULT_INCLUDE_PREVIOUS_RUN) is True


def prompt_variables(spec: Mapping[str, Any]) -> bool:
    return spec.get("promptVariables", DEFAULT_PROMPT_VARIABLES) is True
