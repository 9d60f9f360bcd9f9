"""The parts of the OpenAPI document that FastAPI cannot infer from the routes.

The routes answer with hand-built envelopes and read their bodies themselves (to bound their
size), so their schemas are written here: the ScheduledRun schema is the CRD's own (the chart's
CRD file is the single source of truth, with every field's description), wrapped in kagent's
envelope. `finish` adds them to FastAPI's document, drops FastAPI's default 422 answers (this
server answers bad parameters with 400, as kagent does) and declares the bearer-token scheme.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from pathlib import Path
from typing import Any, Final

import yaml

from runner import api, delivery
from runner.conditions import REASONS_OF, ConditionType, Reason

CRD_FILE: Final = "scheduledruns.yaml"


def _crd_text() -> str:
    """The CRD from the installed wheel (`generator/crds`) or from a source checkout's chart."""
    packaged = importlib.resources.files("generator").joinpath("crds", CRD_FILE)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parent.parent / "charts" / "kagent-scheduledrun" / "crds"
    return (source / CRD_FILE).read_text(encoding="utf-8")


@functools.cache
def scheduledrun_schema() -> dict[str, Any]:
    crd = yaml.safe_load(_crd_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == api.VERSION)
    schema: dict[str, Any] = json.loads(json.dumps(version["schema"]["openAPIV3Schema"]))
    # What the apiserver's own document says of a kind: a client (the web UI) takes the
    # apiVersion and kind of the objects it writes from here, not from a copy of its own.
    schema["x-kubernetes-group-version-kind"] = [
        {"group": api.GROUP, "version": api.VERSION, "kind": api.KIND}
    ]
    return schema


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error", "data", "message"],
        "properties": {
            "error": {"type": "boolean", "const": False},
            "data": data,
            "message": {"type": "string"},
        },
    }


def answer(description: str, data: dict[str, Any], etag: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": envelope(data)}},
    }
    if etag:
        response["headers"] = {
            "ETag": {
                "description": "The object's resourceVersion, quoted: send it back in If-Match",
                "schema": {"type": "string"},
            }
        }
    return response


def failures(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Error answers of an operation: the ones every route can give, and `codes`."""
    described = {
        400: "The request is malformed, or the object breaks the validator's rules",
        401: "No bearer token (client auth mode), or the cluster did not accept it",
        403: "The cluster's RBAC refused the caller, or a cross-site request",
        404: "No such object (or its namespace)",
        409: "Stale resourceVersion, an object that already exists, or a refused trigger",
        413: "The body is larger than 1 MiB",
        415: "A request that changes something sent a body that is not application/json",
        422: "The apiserver refused the object (its schema or CEL rules), or an "
        "Idempotency-Key reused with another request",
        429: "Too many new tokens to review at once: try again after Retry-After seconds",
        428: "An update without a resourceVersion (If-Match or metadata.resourceVersion)",
        502: "The Kubernetes API could not be reached or failed",
    }
    always = (400, 401, 403, 429, 502)
    return {
        code: {
            "description": described[code],
            "content": {"application/json": {"schema": ref("ErrorEnvelope")}},
        }
        for code in sorted({*always, *codes})
    }


SCHEMAS: Final[dict[str, Any]] = {
    "ErrorEnvelope": {
        "type": "object",
        "required": ["error", "data", "message"],
        "properties": {
            "error": {
                "type": "string",
                "minLength": 1,
                "description": "The readable message (kagent's UI shows it)",
            },
            "message": {"type": "string"},
            "data": {
                "type": "object",
                "required": ["status", "reason"],
                "properties": {
                    "status": {"type": "integer", "description": "The HTTP status"},
                    "reason": {
                        "type": "string",
                        "description": "Machine-readable: the apiserver's reason, or this "
                        "server's (Invalid, Unauthorized, NotAccepted, ConcurrencyForbidden...)",
                    },
                    "problems": {
                        "type": "array",
                        "items": {"anyOf": [ref("Problem"), ref("ParameterProblem")]},
                    },
                },
            },
        },
    },
    "ParameterProblem": {
        "type": "object",
        "description": "A path, query or header parameter this server refused before any call",
        "required": ["reason", "field", "message"],
        "properties": {
            "reason": {"type": "string", "const": "BadRequest"},
            "field": {"type": "string", "description": "Where: e.g. query.count, header.If-Match"},
            "message": {"type": "string"},
        },
    },
    "Permission": {
        "type": "object",
        "description": "A Kubernetes permission: a verb on a resource of an API group",
        "required": ["group", "resource", "verb"],
        "properties": {
            "group": {"type": "string", "description": "The API group; empty for the core group"},
            "resource": {"type": "string"},
            "verb": {"type": "string"},
        },
    },
    "Problem": {
        "type": "object",
        "description": "One broken rule, as `scheduledrun validate` reports it",
        "required": ["reason", "field", "message"],
        "properties": {
            "reason": {
                "type": "string",
                "enum": [str(r) for r in REASONS_OF[ConditionType.ACCEPTED]],
                "description": "The Accepted condition's reason",
            },
            "field": {"type": "string", "description": "The field's path, e.g. spec.schedule"},
            "message": {"type": "string"},
        },
    },
    "FireTime": {
        "type": "object",
        "required": ["time", "local"],
        "properties": {
            "time": {"type": "string", "format": "date-time", "description": "In UTC"},
            "local": {
                "type": "string",
                "format": "date-time",
                "description": "The same instant in the ScheduledRun's time zone, with offset",
            },
            "shared": {
                "type": "integer",
                "description": "validate only: how many other ScheduledRuns of the namespace fire "
                "in the same minute (the CronJob controller makes a minute's Jobs at a limited "
                "rate)",
            },
            "sharedInCluster": {
                "type": "integer",
                "description": "validate only: the same over every namespace; present when the "
                "caller may list ScheduledRuns cluster-wide",
            },
        },
    },
    "NextRuns": {
        "type": "object",
        "required": ["timeZone", "suspended", "times"],
        "properties": {
            "timeZone": {"type": "string"},
            "effectiveSchedule": {
                "type": "string",
                "description": "The schedule the CronJob carries (`H` expanded)",
            },
            "suspended": {"type": "boolean"},
            "times": {
                "type": "array",
                "items": ref("FireTime"),
                "description": "As the CronJob controller will fire them; empty for a schedule "
                "that cannot fire, or with problems",
            },
            "notes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Why some times will not fire: endTime, maxRuns, a pause after "
                "failures (as `scheduledrun next` says)",
            },
            "problems": {"type": "array", "items": ref("Problem")},
        },
    },
    "Verdict": {
        "type": "object",
        "required": ["valid", "problems", "timeZone", "times"],
        "properties": {
            "valid": {"type": "boolean"},
            "problems": {"type": "array", "items": ref("Problem")},
            "timeZone": {"type": "string"},
            "times": {"type": "array", "items": ref("FireTime")},
            "notes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Why some times will not fire: endTime, maxRuns, a pause after "
                "failures (as `scheduledrun next` says)",
            },
            "dst": {"type": "array", "items": ref("DstChange")},
            "suggestedSchedule": {
                "type": "string",
                "description": "When a fire time is shared: the schedule with its minute hashed "
                "(`H`), which keeps the hour and gives this ScheduledRun its own minute",
            },
        },
    },
    "DstChange": {
        "type": "object",
        "description": "A daylight-saving change of the zone within the coming year and the "
        "wall-clock times of this schedule it skips or fires twice",
        "required": ["at", "kind", "from", "to", "times", "more"],
        "properties": {
            "at": {"type": "string", "format": "date-time", "description": "In UTC"},
            "kind": {
                "type": "string",
                "enum": ["skip", "repeat"],
                "description": "skip: clocks go forward; repeat: clocks go back",
            },
            "from": {"type": "string", "description": "Wall clock just before the change"},
            "to": {"type": "string", "description": "Wall clock just after the change"},
            "times": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Wall-clock times of this schedule skipped (or fired twice)",
            },
            "more": {"type": "boolean", "description": "More times than listed are affected"},
        },
    },
    "RunHistoryEntry": {
        "type": "object",
        "description": "One run (a Job), from status.runHistory",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "description": "The Job's name"},
            "trigger": {"type": "string", "enum": ["Scheduled", "Manual"]},
            "scheduledTime": {"type": "string"},
            "startTime": {"type": "string"},
            "endTime": {"type": "string"},
            "sessionID": {"type": "string"},
            "taskID": {"type": "string"},
            "dispatchSeconds": {"type": "number", "description": "How long the A2A send took"},
            "status": {"type": "string"},
            "message": {"type": "string"},
            "delivery": {
                "type": "array",
                "description": "Each spec.delivery destination's result for this run",
                "items": {
                    "type": "object",
                    "required": ["name", "result"],
                    "properties": {
                        "name": {"type": "string"},
                        "result": {"type": "string", "enum": list(delivery.RESULTS)},
                        "attempts": {"type": "integer"},
                        "code": {"type": "integer", "description": "The last HTTP status"},
                        "error": {"type": "string"},
                        "reason": {"type": "string", "description": "Why it was skipped"},
                        "time": {"type": "string"},
                    },
                },
            },
        },
    },
    "TriggeredRun": {
        "type": "object",
        "description": "The run's history entry, as kagent's trigger answers it (the one the "
        "history holds, else Pending from the Job's creation), with the Job",
        "required": ["id", "namespace", "scheduledRun", "trigger", "status", "replayed"],
        "properties": {
            "id": {"type": "string", "description": "The Job's name: the run's history id"},
            "status": {"type": "string", "description": "Pending until the runner records more"},
            "startTime": {"type": ["string", "null"]},
            "namespace": {"type": "string"},
            "scheduledRun": {"type": "string"},
            "trigger": {"type": "string", "const": "Manual"},
            "replayed": {
                "type": "boolean",
                "description": "True when an earlier request with this Idempotency-Key made it",
            },
            "replaced": {"type": "array", "items": {"type": "string"}},
            "job": {"type": "object"},
        },
    },
    # The condition types and reasons of status.conditions (runner/conditions.py), for clients
    # such as the web UI that must not keep a copy of their own.
    "ConditionType": {
        "type": "string",
        "enum": [str(t) for t in ConditionType],
        "description": "The type of a ScheduledRun condition",
    },
    "ConditionReason": {
        "type": "string",
        "enum": [str(r) for r in Reason],
        "description": "The reason of a ScheduledRun condition",
        "x-reasons-of": {str(t): [str(r) for r in rs] for t, rs in REASONS_OF.items()},
    },
    "AgentTarget": {
        "type": "object",
        "required": ["kind", "namespace", "name"],
        "properties": {
            "kind": {"type": "string", "enum": list(api.TARGET_KINDS)},
            "apiGroup": {"type": "string"},
            "namespace": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
        },
    },
}


def finish(document: dict[str, Any], bearer: bool) -> dict[str, Any]:
    """Complete FastAPI's document: our schemas, no default 422s, the security scheme."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    schemas["ScheduledRun"] = scheduledrun_schema()
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            default_422 = responses.get("422", {}).get("content", {})
            if "HTTPValidationError" in json.dumps(default_422):
                responses.pop("422")
    if bearer:
        components["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A Kubernetes bearer token (e.g. `kubectl create token NAME`); "
                "every call to the cluster is made with it",
            }
        }
        document["security"] = [{"bearer": []}]
    return document
