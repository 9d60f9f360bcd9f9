"""The `/api/agents` resource: the Agents and SandboxAgents a ScheduledRun may target, in every
namespace the caller may list (kagent's UI offers them in its form)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from runner import api
from runner.kube import KubeError
from server import answers
from server.dependencies import ROUTE_NEEDS, Kube, Lists, Token
from server.envelope import ok
from server.kube import KubeClient
from server.openapi import answer, failures, ref
from server.params import NamespaceFilter
from server.visible import visible

router = APIRouter(prefix="/api/agents", tags=["agents"], dependencies=ROUTE_NEEDS)


@router.get(
    "",
    summary="The Agents and SandboxAgents a ScheduledRun may target",
    responses={
        200: answer("Targets", {"type": "array", "items": ref("AgentTarget")}),
        **failures(),
    },
)
async def list_agents(
    kube: Kube, token: Token, lists: Lists, namespace: NamespaceFilter = None
) -> JSONResponse:
    async with lists.enter(token or ""):
        targets = await _targets(kube, namespace)
    return ok(targets, f"{len(targets)} agents")


async def _targets(kube: KubeClient, namespace: str | None) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    for kind, target in api.TARGET_KINDS.items():

        async def lister(ns: str | None, plural: str = target.plural) -> list[Any]:
            try:
                return await kube.list_targets(plural, ns)
            except KubeError as exc:
                if exc.status == 404:  # that kind's CRD is not installed
                    return []
                raise

        items = await visible(kube, namespace, lister)
        targets.extend(answers.agent_target(item, kind) for item in items)
    targets.sort(key=lambda t: (t["namespace"], t["name"], t["kind"]))
    return targets
