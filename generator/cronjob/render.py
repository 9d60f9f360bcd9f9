"""ScheduledRun -> CronJob: a pure function of the object and the operator settings.

The layout lives in the jinja2 template `templates/cronjob.json.j2`; this module computes the
values (names, labels, deadlines) and fills them in. Every value goes through the `tojson` filter
defined here, which writes it as one escaped JSON value, so no text a user wrote can become
structure. The result is parsed back with `json.loads` (the operator renders every ScheduledRun it
sees, and a YAML parser cost it a millisecond each) and returned as a plain dict, the whole body
the operator creates or replaces the CronJob with; `scheduledrun render` prints it as YAML.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import jinja2
import orjson

from generator.cronjob.config import OperatorConfig
from generator.schedule import hashed
from runner import api, delivery, spec_fields
from runner.duration import parse_duration

__all__ = [
    "CRONJOB_NAME_MAX",
    "LABEL_VALUE_MAX",
    "OperatorConfig",
    "RenderError",
    "cronjob_name",
    "label_value",
    "render_cronjob",
    "render_cronjob_text",
]

# A CronJob's Jobs are named `<cronjob>-<minutes since epoch>` (11 characters more) and a Job's
# name must fit a 63-character label value, so Kubernetes caps CronJob names at 52.
CRONJOB_NAME_MAX: Final = 52
LABEL_VALUE_MAX: Final = 63
_HASH_CHARS: Final = 8  # 32 bits of sha256: collisions need ~65k long names sharing a prefix.

TEMPLATE_NAME: Final = "cronjob.json.j2"
APP_NAME: Final = "kagent-scheduledrun"


class RenderError(ValueError):
    """The object cannot be rendered (it should have failed validation first)."""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_CHARS]


def cronjob_name(scheduledrun_name: str) -> str:
    """The ScheduledRun's own name when it fits 52 characters; otherwise a cut-down name plus a
    stable hash of the full name, which is a DNS label (dots become dashes) of at most 52."""
    if len(scheduledrun_name) <= CRONJOB_NAME_MAX:
        return scheduledrun_name
    keep = CRONJOB_NAME_MAX - 1 - _HASH_CHARS
    prefix = scheduledrun_name[:keep].replace(".", "-").rstrip("-")
    return f"{prefix}-{_short_hash(scheduledrun_name)}"


def label_value(scheduledrun_name: str) -> str:
    """The value of the `kagent.dev/scheduledrun` label: the name itself when it fits 63
    characters, otherwise a cut-down name plus a stable hash. Select with this, not the raw name."""
    if len(scheduledrun_name) <= LABEL_VALUE_MAX:
        return scheduledrun_name
    keep = LABEL_VALUE_MAX - 1 - _HASH_CHARS
    prefix = scheduledrun_name[:keep].rstrip("-.")
    return f"{prefix}-{_short_hash(scheduledrun_name)}"


def tojson(value: Any) -> str:
    """One value as JSON text: strings quoted with every quote, backslash, control and non-ASCII
    character escaped, so it reads back as exactly the value and can never close a string."""
    return json.dumps(value)


def _template_text() -> str:
    """The template from the installed wheel (`generator/templates`) or, running from a source
    checkout, from the repository's `templates/` folder."""
    packaged = importlib.resources.files("generator").joinpath("templates", TEMPLATE_NAME)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / "templates" / TEMPLATE_NAME
    return source.read_text(encoding="utf-8")


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # output is JSON, not HTML; escaping is the tojson filter's job
        keep_trailing_newline=True,
    )
    env.filters["tojson"] = tojson
    return env.from_string(_template_text())


def _spec_context(spec: Mapping[str, Any], settings: OperatorConfig) -> dict[str, Any]:
    try:
        timeout = parse_duration(spec_fields.timeout(spec))
    except ValueError as exc:
        raise RenderError(f"spec.timeout: {exc}") from exc
    return {
        # Always explicit: without timeZone the CronJob follows kube-controller-manager's zone.
        "time_zone": spec_fields.time_zone(spec),
        "suspend": spec_fields.suspend(spec),
        "concurrency_policy": spec_fields.concurrency_policy(spec),
        "starting_deadline_seconds": spec.get("startingDeadlineSeconds"),
        "active_deadline_seconds": int(timeout.total_seconds()) + settings.deadline_grace_seconds,
        "delivery_env": _delivery_env(spec),
    }


def _delivery_env(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The runner's environment entries of spec.delivery: each destination's URL and signing key
    from their Secret keys, read by the kubelet (the runner's ServiceAccount reads no Secrets).
    Optional, so a missing Secret fails that delivery (recorded), never the run's pod."""
    env: list[dict[str, Any]] = []
    for entry in spec.get("delivery") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        pairs: tuple[tuple[str, Literal["URL", "KEY"]], ...] = (
            ("url", "URL"),
            ("signingKey", "KEY"),
        )
        for field, what in pairs:
            holder = entry.get(field)
            ref = holder.get("secretKeyRef") if isinstance(holder, Mapping) else None
            if not isinstance(ref, Mapping):
                continue
            secret = {"name": ref.get("name"), "key": ref.get("key"), "optional": True}
            name = delivery.env_name(entry["name"], what)
            env.append({"name": name, "valueFrom": {"secretKeyRef": secret}})
    return env


def _context(
    sr: Mapping[str, Any], settings: OperatorConfig, schedule: str | None = None
) -> dict[str, Any]:
    meta = sr.get("metadata") or {}
    name = meta.get("name")
    namespace = meta.get("namespace")
    if not isinstance(name, str) or not name:
        raise RenderError("metadata.name is required")
    if not isinstance(namespace, str) or not namespace:
        raise RenderError("metadata.namespace is required")
    generation = meta.get("generation")
    if schedule is None:
        try:
            schedule = hashed.effective_schedule(sr)  # `H` expanded for this namespace and name
        except hashed.HashError as exc:
            raise RenderError(str(exc)) from exc
    annotations = {api.ANNOTATION_SCHEDULEDRUN_NAME: name}
    if generation is not None:
        annotations[api.ANNOTATION_GENERATION] = str(generation)  # annotation values are strings
    return {
        "schedule": schedule,
        "name": cronjob_name(name),
        "namespace": namespace,
        "scheduledrun_name": name,
        # On the CronJob, its Jobs and their Pods alike.
        "labels": {
            api.LABEL_SCHEDULEDRUN: label_value(name),
            "app.kubernetes.io/name": APP_NAME,
            api.LABEL_COMPONENT: api.COMPONENT_RUNNER,
            "app.kubernetes.io/managed-by": APP_NAME,
            "app.kubernetes.io/part-of": "kagent",
        },
        "annotations": annotations,
        "owner_api_version": api.API_VERSION,
        "owner_kind": api.KIND,
        "owner_uid": meta.get("uid") or None,
        "container": api.RUNNER_CONTAINER,
        "exit_final_failure": api.EXIT_FINAL_FAILURE,
        "settings": settings,
        "env": {
            "job_name": api.ENV_JOB_NAME,
            "job_uid": api.ENV_JOB_UID,
            "pod_name": api.ENV_POD_NAME,
            "a2a_base_url": api.ENV_A2A_BASE_URL,
            "a2a_protocol": api.ENV_A2A_PROTOCOL,
            "a2a_user_id": api.ENV_A2A_USER_ID,
            "a2a_token_file": api.ENV_A2A_TOKEN_FILE,
            "session_url": api.ENV_SESSION_URL,
            "otlp_endpoint": api.ENV_OTLP_ENDPOINT,
        },
        "a2a_token_dir": api.A2A_TOKEN_DIR,
        "a2a_token_filename": api.A2A_TOKEN_FILENAME,
        **_spec_context(sr.get("spec") or {}, settings),
    }


def render_cronjob_text(
    sr: Mapping[str, Any], settings: OperatorConfig, schedule: str | None = None
) -> str:
    """The template's JSON text for this ScheduledRun (what `render_cronjob` parses)."""
    return _template().render(_context(sr, settings, schedule))


def render_cronjob(
    sr: Mapping[str, Any], settings: OperatorConfig, schedule: str | None = None
) -> dict[str, Any]:
    """The CronJob (a plain dict) the operator applies for this ScheduledRun. The object must
    carry metadata.name and metadata.namespace; without metadata.uid (a file that was never
    applied) the owner reference is left out, since one with a made-up uid would have the garbage
    collector delete the CronJob. `schedule`: the effective schedule (`H` expanded) when the
    caller has it already."""
    rendered = orjson.loads(render_cronjob_text(sr, settings, schedule))
    if not isinstance(rendered, dict):
        raise RenderError("the CronJob template did not produce a mapping")
    return rendered
