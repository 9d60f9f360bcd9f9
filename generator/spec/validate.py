"""Every rule a ScheduledRun must meet, checked at once, as data: the operator's `Accepted` verdict.

The CRD's schema and CEL rules reject most bad objects at admission; this module holds the same
rules (and the ones a schema cannot say: the cron syntax and the time-zone database) so that the
operator never renders a CronJob that Kubernetes would refuse, and so that `scheduledrun validate`
can say all of it offline. It is pure: the object in, the list of problems out, empty when valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from generator.schedule import hashed
from generator.schedule.cron import GO_SPACE, CronError, parse_schedule, validate_time_zone
from runner import api, delivery, history, variables
from runner.conditions import Reason
from runner.duration import parse_duration
from runner.spec_fields import (
    CONCURRENCY_POLICIES,
    DEFAULT_CONCURRENCY_POLICY,
    DEFAULT_INCLUDE_PREVIOUS_RUN,
    DEFAULT_MAX_RUN_HISTORY,
    DEFAULT_PROMPT_VARIABLES,
    DEFAULT_SUSPEND,
    DEFAULT_TIMEOUT,
    SPEC_FIELDS,
    TARGET_REF_FIELDS,
)

__all__ = [
    "PROMPT_MAX_CHARS",
    "Problem",
    "validate_scheduledrun",
    "validate_spec",
]

PROMPT_MAX_CHARS: Final = 32768
MIN_STARTING_DEADLINE_SECONDS: Final = 10  # the CronJob controller syncs about every 10 s
MAX_RUN_HISTORY: Final = 100
# The CRD's maxLength bounds (admission rejects longer values before robfig ever sees them).
SCHEDULE_MAX_CHARS: Final = 256
TIME_ZONE_MAX_CHARS: Final = 128

# RFC 3339 date-time as the API server's `format: date-time` accepts it (with a zone).
_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_NAME: Final = re.compile(api.NAME_PATTERN)


@dataclass(frozen=True)
class Problem:
    """One broken rule: the `Accepted` reason it maps to, the field path, and what to fix."""

    reason: Reason
    field: str
    message: str


def validate_scheduledrun(obj: Mapping[str, Any]) -> list[Problem]:
    """All problems of a whole ScheduledRun object (apiVersion, kind, metadata.name, spec)."""
    if not isinstance(obj, Mapping):
        return [Problem(Reason.INVALID_SPEC, "", "a ScheduledRun must be a mapping (an object)")]
    problems: list[Problem] = []
    if obj.get("apiVersion") != api.API_VERSION:
        problems.append(
            Problem(
                Reason.INVALID_SPEC,
                "apiVersion",
                f"must be {api.API_VERSION}, not {obj.get('apiVersion')!r}",
            )
        )
    if obj.get("kind") != api.KIND:
        problems.append(
            Problem(Reason.INVALID_SPEC, "kind", f"must be {api.KIND}, not {obj.get('kind')!r}")
        )
    problems.extend(_metadata_problems(obj.get("metadata")))
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        problems.append(
            Problem(
                Reason.INVALID_SPEC,
                "spec",
                "required: an object with schedule, targetRef and prompt",
            )
        )
        return problems
    problems.extend(validate_spec(spec))
    return problems


def validate_spec(spec: Mapping[str, Any]) -> list[Problem]:
    """All problems of a ScheduledRun's spec alone."""
    problems: list[Problem] = []
    for name in sorted(set(spec) - set(SPEC_FIELDS), key=str):
        problems.append(
            Problem(Reason.INVALID_SPEC, f"spec.{name}", _unknown_field(name, SPEC_FIELDS))
        )
    problems.extend(_schedule_problems(spec))
    problems.extend(_target_ref_problems(spec.get("targetRef")))
    problems.extend(_prompt_problems(spec))
    for check in _OPTIONAL_FIELD_CHECKS:
        problems.extend(check(spec))
    return problems


def _unknown_field(name: object, known: tuple[str, ...]) -> str:
    return f"unknown field {name!r}; known fields are {', '.join(sorted(known))}"


def _metadata_problems(metadata: object) -> list[Problem]:
    if not isinstance(metadata, Mapping) or "name" not in metadata:
        return [Problem(Reason.INVALID_SPEC, "metadata.name", "required")]
    name = metadata["name"]
    if not isinstance(name, str) or not name:
        return [Problem(Reason.INVALID_SPEC, "metadata.name", "must be a non-empty string")]
    if len(name) > api.NAME_MAX or not _NAME.fullmatch(name):
        return [
            Problem(
                Reason.INVALID_SPEC,
                "metadata.name",
                f"{name!r} is not a valid name: use at most {api.NAME_MAX} lower-case "
                "letters, digits, '-' and '.', starting and ending with a letter or digit",
            )
        ]
    return []


def _schedule_problems(spec: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if "schedule" not in spec:
        problems.append(
            Problem(
                Reason.INVALID_SCHEDULE,
                "spec.schedule",
                "required: a cron schedule such as '0 9 * * 1-5' or '@daily'",
            )
        )
    else:
        problems.extend(
            _check(
                Reason.INVALID_SCHEDULE,
                "spec.schedule",
                spec["schedule"],
                SCHEDULE_MAX_CHARS,
                _parse_hashed,
            )
        )
    if "timeZone" in spec:
        problems.extend(
            _check(
                Reason.INVALID_TIME_ZONE,
                "spec.timeZone",
                spec["timeZone"],
                TIME_ZONE_MAX_CHARS,
                validate_time_zone,
            )
        )
    return problems


def _parse_hashed(schedule: Any) -> object:
    """The schedule's `H` forms checked, then the result as robfig reads it."""
    return parse_schedule(hashed.expand(schedule) if isinstance(schedule, str) else schedule)


def _check(
    reason: Reason, where: str, value: object, max_chars: int, parse: Callable[[Any], object]
) -> list[Problem]:
    if isinstance(value, str) and len(value) > max_chars:
        return [Problem(reason, where, f"is {len(value)} characters; at most {max_chars} allowed")]
    try:
        parse(value)  # both parsers reject a value that is not a string
    except CronError as error:
        return [Problem(reason, where, str(error))]
    return []


def _target_ref_problems(ref: object) -> list[Problem]:
    where = "spec.targetRef"
    if ref is None:
        return [
            Problem(
                Reason.INVALID_TARGET_REF,
                where,
                "required: {kind: Agent or SandboxAgent, name: ...}",
            )
        ]
    if not isinstance(ref, Mapping):
        return [Problem(Reason.INVALID_TARGET_REF, where, "must be an object with kind and name")]
    problems: list[Problem] = []
    if "namespace" in ref:
        problems.append(
            Problem(
                Reason.INVALID_TARGET_REF,
                f"{where}.namespace",
                "not allowed: the target must be in the ScheduledRun's own namespace",
            )
        )
    for name in sorted(set(ref) - set(TARGET_REF_FIELDS) - {"namespace"}, key=str):
        problems.append(
            Problem(
                Reason.INVALID_TARGET_REF,
                f"{where}.{name}",
                _unknown_field(name, TARGET_REF_FIELDS),
            )
        )
    group = ref.get("apiGroup", api.GROUP)
    if group != api.GROUP:
        problems.append(
            Problem(
                Reason.INVALID_TARGET_REF,
                f"{where}.apiGroup",
                f"must be {api.GROUP} (or left out), not {group!r}",
            )
        )
    kind = ref.get("kind")
    if kind not in api.TARGET_KINDS:
        shown = "required" if kind is None else f"{kind!r} is not supported"
        problems.append(
            Problem(
                Reason.INVALID_TARGET_REF,
                f"{where}.kind",
                f"{shown}: use {' or '.join(api.TARGET_KINDS)}",
            )
        )
    target = ref.get("name")
    if target is None:
        problems.append(
            Problem(Reason.INVALID_TARGET_REF, f"{where}.name", "required: the name of the agent")
        )
    elif not isinstance(target, str) or len(target) > api.NAME_MAX or not _NAME.fullmatch(target):
        problems.append(
            Problem(
                Reason.INVALID_TARGET_REF,
                f"{where}.name",
                f"{target!r} is not a valid object name (lower-case letters, digits, '-' and '.')",
            )
        )
    return problems


def _prompt_problems(spec: Mapping[str, Any]) -> list[Problem]:
    where = "spec.prompt"
    if "prompt" not in spec:
        return [Problem(Reason.INVALID_SPEC, where, "required: the message to send to the agent")]
    prompt = spec["prompt"]
    if not isinstance(prompt, str):
        return [
            Problem(Reason.INVALID_SPEC, where, f"must be a string, not {type(prompt).__name__}")
        ]
    if len(prompt) > PROMPT_MAX_CHARS:
        return [
            Problem(
                Reason.INVALID_SPEC,
                where,
                f"is {len(prompt)} characters; at most {PROMPT_MAX_CHARS} allowed",
            )
        ]
    if not prompt.strip(GO_SPACE):  # as the CRD's CEL trim() decides "only whitespace"
        return [Problem(Reason.INVALID_SPEC, where, "must contain something besides whitespace")]
    return []


def _check_suspend(spec: Mapping[str, Any]) -> list[Problem]:
    value = spec.get("suspend", DEFAULT_SUSPEND)
    if not isinstance(value, bool):
        return [
            Problem(Reason.INVALID_SPEC, "spec.suspend", f"must be true or false, not {value!r}")
        ]
    return []


def _check_concurrency_policy(spec: Mapping[str, Any]) -> list[Problem]:
    value = spec.get("concurrencyPolicy", DEFAULT_CONCURRENCY_POLICY)
    if value not in CONCURRENCY_POLICIES:
        choices = ", ".join(CONCURRENCY_POLICIES)
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.concurrencyPolicy",
                f"must be one of {choices}, not {value!r}",
            )
        ]
    return []


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_starting_deadline(spec: Mapping[str, Any]) -> list[Problem]:
    if "startingDeadlineSeconds" not in spec:
        return []
    value = spec["startingDeadlineSeconds"]
    if not _is_int(value) or value < MIN_STARTING_DEADLINE_SECONDS:
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.startingDeadlineSeconds",
                f"must be a whole number of seconds, at least {MIN_STARTING_DEADLINE_SECONDS}, "
                f"not {value!r} (the CronJob controller may miss shorter deadlines)",
            )
        ]
    return []


def _check_timeout(spec: Mapping[str, Any]) -> list[Problem]:
    value = spec.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(value, str):
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.timeout",
                f"must be a duration string such as 15m, not {value!r}",
            )
        ]
    try:
        parse_duration(value)
    except ValueError as error:
        return [Problem(Reason.INVALID_SPEC, "spec.timeout", str(error))]
    return []


def _check_max_run_history(spec: Mapping[str, Any]) -> list[Problem]:
    value = spec.get("maxRunHistory", DEFAULT_MAX_RUN_HISTORY)
    if not _is_int(value) or not 1 <= value <= MAX_RUN_HISTORY:
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.maxRunHistory",
                f"must be a whole number from 1 to {MAX_RUN_HISTORY}, not {value!r}",
            )
        ]
    return []


def _check_pause_after_failures(spec: Mapping[str, Any]) -> list[Problem]:
    if "pauseAfterFailures" not in spec:
        return []
    value = spec["pauseAfterFailures"]
    kept = spec.get("maxRunHistory", DEFAULT_MAX_RUN_HISTORY)
    if not _is_int(value) or not 1 <= value <= MAX_RUN_HISTORY:
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.pauseAfterFailures",
                f"must be a whole number from 1 to {MAX_RUN_HISTORY}, not {value!r}",
            )
        ]
    if _is_int(kept) and value > kept:
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.pauseAfterFailures",
                f"{value} is more than maxRunHistory {kept}: failures are counted in "
                "status.runHistory, which keeps only maxRunHistory runs; raise maxRunHistory",
            )
        ]
    return []


def _check_end_time(spec: Mapping[str, Any]) -> list[Problem]:
    if "endTime" not in spec:
        return []
    value = spec["endTime"]
    if (
        not isinstance(value, str)
        or not _RFC3339.fullmatch(value)
        or history.parse_time(value) is None
    ):
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.endTime",
                "must be an RFC 3339 time with a zone, such as 2026-12-31T23:00:00Z, "
                f"not {value!r}",
            )
        ]
    return []


def _check_max_runs(spec: Mapping[str, Any]) -> list[Problem]:
    if "maxRuns" not in spec:
        return []
    value = spec["maxRuns"]
    if not _is_int(value) or value < 1:
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.maxRuns",
                f"must be a whole number, at least 1, not {value!r}",
            )
        ]
    return []


def _check_include_previous_run(spec: Mapping[str, Any]) -> list[Problem]:
    value = spec.get("includePreviousRun", DEFAULT_INCLUDE_PREVIOUS_RUN)
    if not isinstance(value, bool):
        return [
            Problem(
                Reason.INVALID_SPEC,
                "spec.includePreviousRun",
                f"must be true or false, not {value!r}",
            )
        ]
    return []


def _check_prompt_variables(spec: Mapping[str, Any]) -> list[Problem]:
    value = spec.get("promptVariables", DEFAULT_PROMPT_VARIABLES)
    if not isinstance(value, bool):
        return [
            Problem(
                Reason.INVALID_SPEC, "spec.promptVariables", f"must be true or false, not {value!r}"
            )
        ]
    prompt = spec.get("prompt")
    if not value or not isinstance(prompt, str):
        return []
    wrong = variables.problems(prompt)
    if not wrong:
        return []
    return [
        Problem(Reason.INVALID_SPEC, "spec.prompt", "; ".join(wrong) + " (promptVariables is true)")
    ]


DELIVERY_FIELDS: Final = ("name", "format", "url", "signingKey", "when", "onChange")
_LABEL: Final = re.compile(api.NAMESPACE_PATTERN)  # a DNS label
_SECRET_KEY: Final = re.compile(r"[-._a-zA-Z0-9]+")


def _check_delivery(spec: Mapping[str, Any]) -> list[Problem]:
    if "delivery" not in spec:
        return []
    value = spec["delivery"]
    if not isinstance(value, list):
        return [Problem(Reason.INVALID_SPEC, "spec.delivery", "must be a list of destinations")]
    problems: list[Problem] = []
    if len(value) > delivery.MAX_DESTINATIONS:
        problems.append(
            Problem(
                Reason.INVALID_SPEC,
                "spec.delivery",
                f"has {len(value)} destinations; at most {delivery.MAX_DESTINATIONS} allowed",
            )
        )
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"spec.delivery[{index}]"
        wrong = _destination_problems(item, seen)
        problems.extend(Problem(Reason.INVALID_SPEC, f"{where}{f}", m) for f, m in wrong)
    return problems


def _destination_problems(item: object, seen: set[str]) -> list[tuple[str, str]]:
    """(field under the destination, message) for each broken rule of one destination."""
    if not isinstance(item, Mapping):
        return [("", "must be an object with name and url")]
    found = [
        (f".{k}", _unknown_field(k, DELIVERY_FIELDS)) for k in set(item) - set(DELIVERY_FIELDS)
    ]
    name = item.get("name")
    if not isinstance(name, str) or len(name) > 63 or not _LABEL.fullmatch(name):
        found.append((".name", f"must be a DNS label (a-z, 0-9, '-'; at most 63), not {name!r}"))
    elif name in seen:
        found.append((".name", f"{name!r} names two destinations; names must be unique"))
    else:
        seen.add(name)
    fmt = item.get("format", "json")
    if fmt not in delivery.FORMATS:
        found.append((".format", f"must be one of {', '.join(delivery.FORMATS)}, not {fmt!r}"))
    for field in ("url", "signingKey"):
        if field == "signingKey" and field not in item:
            continue
        ref = item.get(field)
        inner = ref.get("secretKeyRef") if isinstance(ref, Mapping) else None
        if not (
            isinstance(inner, Mapping)
            and isinstance(inner.get("name"), str)
            and _NAME.fullmatch(inner["name"])
            and isinstance(inner.get("key"), str)
            and _SECRET_KEY.fullmatch(inner["key"])
        ):
            found.append(
                (
                    f".{field}",
                    "must be {secretKeyRef: {name: <Secret>, key: <key>}} naming a"
                    " Secret in this namespace",
                )
            )
    when = item.get("when", [])
    if not isinstance(when, list) or any(w not in delivery.STATUSES for w in when):
        found.append((".when", f"must list some of {', '.join(delivery.STATUSES)}, not {when!r}"))
    if not isinstance(item.get("onChange", False), bool):
        found.append((".onChange", f"must be true or false, not {item.get('onChange')!r}"))
    return found


_OPTIONAL_FIELD_CHECKS: Final[tuple[Callable[[Mapping[str, Any]], list[Problem]], ...]] = (
    _check_suspend,
    _check_concurrency_policy,
    _check_starting_deadline,
    _check_timeout,
    _check_max_run_history,
    _check_pause_after_failures,
    _check_end_time,
    _check_max_runs,
    _check_include_previous_run,
    _check_prompt_variables,
    _check_delivery,
)
