"""A ScheduledRun's runs: `GET .../executions` (its history, paged as kagent pages executions,
server.executions) and `POST .../trigger` (run now, server.trigger)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from server import executions
from server.body import OptionalJsonBody
from server.dependencies import ROUTE_NEEDS, Kube
from server.envelope import ApiError, ok
from server.openapi import answer, failures, ref
from server.params import Name, Namespace
from server.trigger import Idempotency, request_digest
from server.trigger import trigger as run_now

router = APIRouter(
    prefix="/api/scheduledruns/{namespace}/{name}",
    tags=["runs"],
    dependencies=ROUTE_NEEDS,
)


@router.get(
    "/executions",
    summary="The run history, newest first, paged as kagent pages executions",
    description="Next page: `before` = the last entry's startTime, `beforeID` = its id.",
    responses={
        200: answer("Runs", {"type": "array", "items": ref("RunHistoryEntry")}),
        **failures(404),
    },
)
async def list_executions(
    kube: Kube,
    namespace: Namespace,
    name: Name,
    limit: Annotated[int, Query(ge=1, le=executions.MAX_LIMIT)] = executions.DEFAULT_LIMIT,
    before: Annotated[
        str | None, Query(description="RFC 3339: only runs that started earlier")
    ] = None,
    before_id: Annotated[
        str | None,
        Query(alias="beforeID", description="With before: also runs of that instant, smaller id"),
    ] = None,
) -> JSONResponse:
    cursor = None
    if before is not None:
        try:
            cursor = executions.parse_instant(before)
        except ValueError as exc:
            raise ApiError(400, "BadRequest", "before must be an RFC 3339 time") from exc
    elif before_id is not None:
        raise ApiError(400, "BadRequest", "beforeID requires before")
    obj = await kube.get_scheduledrun(namespace, name)
    history = (obj.get("status") or {}).get("runHistory") or []
    entries = executions.page(history, limit, cursor, before_id)
    return ok(entries, f"{len(entries)} runs")


@router.post(
    "/trigger",
    status_code=201,
    summary="Run now: a Manual Job from the CronJob, as `kubectl create job --from` makes it",
    description="The rules of `scheduledrun trigger`: refused (409) when not Accepted, or when "
    "concurrencyPolicy is Forbid and a run is active; `force=true` overrides; Replace deletes "
    "the active runs first. A retried request with the same Idempotency-Key answers 200 with the "
    "run the first one started, and starts no other; the same key with another request (another "
    "body or force flag) is refused with 422.",
    responses={
        201: answer("Started", ref("TriggeredRun")),
        200: answer("Started earlier with this Idempotency-Key", ref("TriggeredRun")),
        **failures(404, 409, 422),
    },
)
async def trigger(
    kube: Kube,
    namespace: Namespace,
    name: Name,
    body: OptionalJsonBody,
    force: bool = False,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
    traceparent: Annotated[str | None, Header(max_length=256)] = None,
) -> JSONResponse:
    once = None
    if idempotency_key is not None:
        once = Idempotency(idempotency_key, request_digest(force, body))
    started = await run_now(kube, namespace, name, force, once, traceparent)
    message = "run started" if started.status == 201 else "run started earlier with this key"
    return ok(started.run, message, started.status)
