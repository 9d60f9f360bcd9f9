"""What the caller may do in a namespace, so a UI offers only the actions the cluster would allow.

`GET /api/access?namespace=` asks the apiserver one SelfSubjectAccessReview per Kubernetes
permission an action needs, with the caller's own credentials (which every authenticated user
may do). It only informs: each action is still decided by the cluster when it is taken.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Final

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from runner import api
from runner.api import NAMESPACE_MAX, NAMESPACE_PATTERN
from server.dependencies import ROUTE_NEEDS, Kube
from server.envelope import ok
from server.openapi import answer, failures, ref

# (group, resource, verb): a Kubernetes permission.
Permission = tuple[str, str, str]

SCHEDULEDRUNS: Final = (api.GROUP, api.PLURAL)
# Each action of the API and the permissions its route uses on the caller's behalf.
ACTIONS: Final[Mapping[str, tuple[Permission, ...]]] = {
    "create": ((*SCHEDULEDRUNS, "create"),),
    "update": ((*SCHEDULEDRUNS, "get"), (*SCHEDULEDRUNS, "update")),
    "suspend": ((*SCHEDULEDRUNS, "patch"),),
    "delete": ((*SCHEDULEDRUNS, "delete"),),
    # The trigger route reads the ScheduledRun and its CronJob, lists the Jobs, creates one.
    "trigger": (
        (*SCHEDULEDRUNS, "get"),
        ("batch", "cronjobs", "get"),
        ("batch", "jobs", "list"),
        ("batch", "jobs", "create"),
    ),
}


def permissions() -> list[Permission]:
    """Every permission some action needs, each once, in a stable order."""
    return sorted({p for needed in ACTIONS.values() for p in needed})


def missing_permissions(granted: Mapping[Permission, bool]) -> dict[str, list[Permission]]:
    """Each action, and the permissions it needs that the caller lacks (none: allowed)."""
    return {
        action: [p for p in needed if not granted.get(p, False)]
        for action, needed in ACTIONS.items()
    }


def allowed_actions(granted: Mapping[Permission, bool]) -> dict[str, bool]:
    """Each action, and whether the caller holds every permission it needs."""
    return {action: not lacking for action, lacking in missing_permissions(granted).items()}


def permission_json(p: Permission) -> dict[str, str]:
    group, resource, verb = p
    return {"group": group, "resource": resource, "verb": verb}


router = APIRouter(prefix="/api/access", tags=["access"], dependencies=ROUTE_NEEDS)


@router.get(
    "",
    summary="Which actions the caller may take on ScheduledRuns in a namespace",
    description="One SelfSubjectAccessReview per permission an action needs; the answer only "
    "informs (a UI hides what would be refused), the cluster still decides every request.",
    responses={
        200: answer(
            "The actions",
            {
                "type": "object",
                "required": ["namespace", "actions", "missing"],
                "properties": {
                    "namespace": {"type": "string"},
                    "actions": {
                        "type": "object",
                        "properties": {a: {"type": "boolean"} for a in ACTIONS},
                        "required": list(ACTIONS),
                    },
                    "missing": {
                        "type": "object",
                        "description": "Each action's permissions the caller lacks (empty when "
                        "it is allowed), so a UI can say what a refused action needs",
                        "properties": {
                            a: {"type": "array", "items": ref("Permission")} for a in ACTIONS
                        },
                        "required": list(ACTIONS),
                    },
                },
            },
        ),
        **failures(),
    },
)
async def access(
    kube: Kube,
    namespace: Annotated[str, Query(pattern=NAMESPACE_PATTERN, max_length=NAMESPACE_MAX)],
) -> JSONResponse:
    wanted = permissions()
    reviewed = await asyncio.gather(*(kube.can_i(namespace, *p) for p in wanted))
    granted = dict(zip(wanted, reviewed, strict=True))
    missing = {
        action: [permission_json(p) for p in lacking]
        for action, lacking in missing_permissions(granted).items()
    }
    answer = {"namespace": namespace, "actions": allowed_actions(granted), "missing": missing}
    return ok(answer, "what the caller may do")
