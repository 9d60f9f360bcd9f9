"""kagent's ScheduledRun routes (and what a good UI needs beyond them), each a thin handler:
read from the cluster through `server.kube`, decide with `server.views` (and `server.trigger`),
answer in kagent's envelope. The cluster's refusals pass through with their status."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Final, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from generator.spec.policies import pause_to_resume
from generator.spec.validate import validate_scheduledrun
from runner import api
from runner.kube import KubeError
from server import auth, executions, views
from server.envelope import ApiError, ok
from server.kube import KubeClient
from server.listjson import json_array
from server.openapi import answer, failures, ref
from server.trigger import trigger as run_now

MAX_BODY: Final = 1024 * 1024  # 1 MiB: far above any valid ScheduledRun (prompt <= 32 KiB)
NAMESPACE_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
NAME_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# Parallel per-namespace lists when the caller may not list across namespaces.
NAMESPACE_FANOUT: Final = 16

Namespace = Annotated[
    str, Path(pattern=NAMESPACE_PATTERN, max_length=63, description="The object's namespace")
]
Name = Annotated[
    str, Path(pattern=NAME_PATTERN, max_length=253, description="The ScheduledRun's name")
]
NamespaceFilter = Annotated[
    str | None,
    Query(pattern=NAMESPACE_PATTERN, max_length=63, description="Only this namespace"),
]
# This apiserver's resourceVersions are etcd revisions: anything else would be its 500.
RESOURCE_VERSION: Final = r"^[0-9]{1,20}$"
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=r'^(\*|(W/)?"?[0-9]{1,20}"?)$',
        description="The ETag of a GET (the resourceVersion): a stale write gets 409",
    ),
]


async def authenticate(request: Request) -> None:
    """Every route's first step: the caller's token (client mode), checked before anything else."""
    try:
        request.state.token = auth.authenticate(
            request.app.state.auth_mode, request.method, request.headers
        )
    except auth.AuthError as exc:
        reason = "Unauthorized" if exc.status == 401 else "Forbidden"
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        raise ApiError(exc.status, reason, exc.message, headers=headers) from exc


router = APIRouter(prefix="/api", dependencies=[Depends(authenticate)])
T = TypeVar("T")


def kube(request: Request) -> KubeClient:
    client: KubeClient = request.app.state.kube
    return client


def token(request: Request) -> str | None:
    found: str | None = request.state.token
    return found


async def read_json(request: Request) -> Any:
    """The request's JSON body, at most MAX_BODY bytes (413 beyond, even when chunked)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, "RequestEntityTooLarge", f"the body is over {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge", f"the body is over {MAX_BODY} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "BadRequest", f"the body is not JSON: {exc}") from exc


def _object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the body must be a JSON object (a ScheduledRun)")
    return body


def _invalid(problems: list[Any]) -> ApiError:
    listed = "; ".join(f"{p.field}: {p.reason}: {p.message}" for p in problems)
    return ApiError(
        400,
        "Invalid",
        f"invalid ScheduledRun: {listed}",
        {"problems": views.problems_data(problems)},
    )


async def visible(
    request: Request, namespace: str | None, lister: Callable[[str | None], Awaitable[list[T]]]
) -> list[T]:
    """Items in `namespace`, or in every namespace the caller may list: across the cluster if
    allowed, else namespace by namespace (those it may list namespaces of), else in its own
    ServiceAccount's namespace. A namespace it may not list shows nothing, never an error."""
    if namespace is not None:
        return await lister(namespace)
    try:
        return await lister(None)
    except KubeError as exc:
        if exc.status != 403:
            raise
    client, caller = kube(request), token(request)
    try:
        namespaces = await client.list_namespaces(caller)
    except KubeError as exc:
        if exc.status != 403:
            raise
        user = (await client.username(caller)).split(":")
        own = user[2:3] if user[:2] == ["system", "serviceaccount"] else []
        namespaces = own
    gate = asyncio.Semaphore(NAMESPACE_FANOUT)

    async def one(ns: str) -> list[T]:
        async with gate:
            try:
                return await lister(ns)
            except KubeError as exc:
                if exc.status in (403, 404):
                    return []
                raise

    pages = await asyncio.gather(*(one(ns) for ns in namespaces))
    return [item for page in pages for item in page]


SCHEDULEDRUN = ref("ScheduledRun")


@router.get(
    "/scheduledruns",
    summary="List ScheduledRuns in every namespace the caller may list",
    responses={
        200: answer("The ScheduledRuns", {"type": "array", "items": SCHEDULEDRUN}),
        **failures(),
    },
)
async def list_scheduledruns(request: Request, namespace: NamespaceFilter = None) -> Response:
    client, caller = kube(request), token(request)
    pages = await visible(request, namespace, lambda ns: client.list_scheduledruns(ns, caller))
    # The items pass through as the apiserver wrote them (server.listjson): no decoding.
    body = b'{"error":false,"data":%s,"message":"ScheduledRuns"}' % json_array(pages)
    return Response(body, media_type="application/json")


BODY: Final = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": SCHEDULEDRUN}},
    }
}


@router.post(
    "/scheduledruns",
    status_code=201,
    summary="Create a ScheduledRun (validated by the operator's own validator first)",
    description="`metadata.namespace` is required (the server has no namespace of its own); "
    "only `metadata.name`, `namespace`, `labels`, `annotations` and `spec` are sent on.",
    openapi_extra=BODY,
    responses={201: answer("Created", SCHEDULEDRUN, etag=True), **failures(404, 409, 413, 422)},
)
async def create_scheduledrun(request: Request) -> JSONResponse:
    body = _object_body(await read_json(request))
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    if not isinstance(namespace, str) or not namespace:
        raise ApiError(400, "BadRequest", "metadata.namespace is required")
    problems = validate_scheduledrun(body)
    if problems:
        raise _invalid(problems)
    created = await kube(request).create_scheduledrun(
        namespace, views.new_object(body, namespace), token(request)
    )
    return ok(created, "ScheduledRun created", 201, {"ETag": views.etag(created)})


@router.post(
    "/scheduledruns/validate",
    summary="The validator's full verdict and the next fire times of an unsaved ScheduledRun",
    description="Nothing is written. `valid` is false with every problem listed, as "
    "`scheduledrun validate` lists them.",
    openapi_extra=BODY,
    responses={200: answer("The verdict", ref("Verdict")), **failures(413)},
)
async def validate(
    request: Request, count: Annotated[int, Query(ge=1, le=100)] = 5
) -> JSONResponse:
    body = await read_json(request)
    result = views.verdict(body, datetime.now(UTC), count)
    return ok(result, "valid" if result["valid"] else f"{len(result['problems'])} problems")


@router.get(
    "/scheduledruns/{namespace}/{name}",
    summary="Get a ScheduledRun; its ETag is the resourceVersion",
    responses={200: answer("The ScheduledRun", SCHEDULEDRUN, etag=True), **failures(404)},
)
async def get_scheduledrun(request: Request, namespace: Namespace, name: Name) -> JSONResponse:
    obj = await kube(request).get_scheduledrun(namespace, name, token(request))
    return ok(obj, "ScheduledRun", headers={"ETag": views.etag(obj)})


@router.put(
    "/scheduledruns/{namespace}/{name}",
    summary="Replace a ScheduledRun's spec (and labels/annotations if sent)",
    description="Needs the resourceVersion last read, as If-Match or metadata.resourceVersion: "
    "a stale one gets 409, none gets 428. Status is the cluster's and is ignored.",
    openapi_extra=BODY,
    responses={
        200: answer("Updated", SCHEDULEDRUN, etag=True),
        **failures(404, 409, 413, 422, 428),
    },
)
async def update_scheduledrun(
    request: Request, namespace: Namespace, name: Name, if_match: IfMatch = None
) -> JSONResponse:
    body = _object_body(await read_json(request))
    meta = body.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise ApiError(400, "BadRequest", "metadata must be an object")
    for key, value in (("name", name), ("namespace", namespace)):
        if meta.setdefault(key, value) != value:
            raise ApiError(400, "BadRequest", f"metadata.{key} {meta[key]!r} is not {value!r}")
    sent_version = meta.get("resourceVersion")
    wanted = views.if_match_version(if_match)
    if wanted is None and isinstance(sent_version, str) and sent_version:
        wanted = sent_version
    if wanted is None:
        raise ApiError(
            428,
            "PreconditionRequired",
            "send the resourceVersion last read (If-Match or metadata.resourceVersion)",
        )
    if not re.fullmatch(RESOURCE_VERSION, wanted):
        raise ApiError(400, "BadRequest", f"{wanted!r} is not a resourceVersion")
    if isinstance(sent_version, str) and sent_version and sent_version != wanted:
        raise ApiError(409, "Conflict", "If-Match and metadata.resourceVersion disagree")
    problems = validate_scheduledrun(body)
    if problems:
        raise _invalid(problems)
    client, caller = kube(request), token(request)
    current = await client.get_scheduledrun(namespace, name, caller)
    updated = await client.replace_scheduledrun(
        namespace, name, views.replacement(current, body, wanted), caller
    )
    return ok(updated, "ScheduledRun updated", headers={"ETag": views.etag(updated)})


@router.delete(
    "/scheduledruns/{namespace}/{name}",
    summary="Delete a ScheduledRun (its CronJob and Jobs go with it)",
    description="With If-Match, only if it is still that resourceVersion (else 409).",
    responses={200: answer("Deleted", {"type": "object"}), **failures(404, 409)},
)
async def delete_scheduledrun(
    request: Request, namespace: Namespace, name: Name, if_match: IfMatch = None
) -> JSONResponse:
    await kube(request).delete_scheduledrun(
        namespace, name, views.if_match_version(if_match), token(request)
    )
    return ok({}, "ScheduledRun deleted")


async def _set_suspend(
    request: Request, namespace: str, name: str, if_match: str | None, suspend: bool
) -> JSONResponse:
    patch: dict[str, Any] = {"spec": {"suspend": suspend}, "metadata": {}}
    version = views.if_match_version(if_match)
    if version:
        patch["metadata"]["resourceVersion"] = version
    client, caller = kube(request), token(request)
    if not suspend:
        # A pause after failures is not spec.suspend: resuming names the standing pause, as
        # `scheduledrun resume` does, so the operator lifts it and counts failures afresh.
        since = pause_to_resume(await client.get_scheduledrun(namespace, name, caller))
        if since is not None:
            patch["metadata"]["annotations"] = {api.ANNOTATION_RESUME: since}
    obj = await client.patch_scheduledrun(namespace, name, patch, caller)
    word = "suspended" if suspend else "resumed"
    return ok(obj, f"ScheduledRun {word}", headers={"ETag": views.etag(obj)})


@router.post(
    "/scheduledruns/{namespace}/{name}/suspend",
    summary="Suspend scheduled runs (manual runs still work); only spec.suspend changes",
    responses={200: answer("Suspended", SCHEDULEDRUN, etag=True), **failures(404, 409, 422)},
)
async def suspend(
    request: Request, namespace: Namespace, name: Name, if_match: IfMatch = None
) -> JSONResponse:
    return await _set_suspend(request, namespace, name, if_match, True)


@router.post(
    "/scheduledruns/{namespace}/{name}/resume",
    summary="Resume scheduled runs: spec.suspend false, and a pause after failures lifted",
    responses={200: answer("Resumed", SCHEDULEDRUN, etag=True), **failures(404, 409, 422)},
)
async def resume(
    request: Request, namespace: Namespace, name: Name, if_match: IfMatch = None
) -> JSONResponse:
    return await _set_suspend(request, namespace, name, if_match, False)


@router.get(
    "/scheduledruns/{namespace}/{name}/executions",
    summary="The run history, newest first, paged as kagent pages executions",
    description="Next page: `before` = the last entry's startTime, `beforeID` = its id.",
    responses={
        200: answer("Runs", {"type": "array", "items": ref("RunHistoryEntry")}),
        **failures(404),
    },
)
async def list_executions(
    request: Request,
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
    obj = await kube(request).get_scheduledrun(namespace, name, token(request))
    history = (obj.get("status") or {}).get("runHistory") or []
    entries = executions.page(history, limit, cursor, before_id)
    return ok(entries, f"{len(entries)} runs")


@router.get(
    "/scheduledruns/{namespace}/{name}/next",
    summary="The next fire times, as the Kubernetes CronJob controller will fire them",
    description="The same times as `scheduledrun next NAME`; none while the schedule cannot "
    "fire. A suspended ScheduledRun still shows when it would fire.",
    responses={200: answer("Fire times", ref("NextRuns")), **failures(404)},
)
async def next_runs(
    request: Request,
    namespace: Namespace,
    name: Name,
    count: Annotated[int, Query(ge=1, le=100)] = 5,
) -> JSONResponse:
    obj = await kube(request).get_scheduledrun(namespace, name, token(request))
    result = views.next_runs(obj, datetime.now(UTC), count)
    return ok(result, f"{len(result['times'])} fire times")


@router.post(
    "/scheduledruns/{namespace}/{name}/trigger",
    status_code=201,
    summary="Run now: a Manual Job from the CronJob, as `kubectl create job --from` makes it",
    description="The rules of `scheduledrun trigger`: refused (409) when not Accepted, or when "
    "concurrencyPolicy is Forbid and a run is active; `force=true` overrides; Replace deletes "
    "the active runs first. A retried request with the same Idempotency-Key answers 200 with the "
    "run the first one started, and starts no other.",
    responses={
        201: answer("Started", ref("TriggeredRun")),
        200: answer("Started earlier with this Idempotency-Key", ref("TriggeredRun")),
        **failures(404, 409),
    },
)
async def trigger(
    request: Request,
    namespace: Namespace,
    name: Name,
    force: bool = False,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> JSONResponse:
    started = await run_now(kube(request), token(request), namespace, name, force, idempotency_key)
    message = "run started" if started.status == 201 else "run started earlier with this key"
    return ok(started.run, message, started.status)


@router.get(
    "/agents",
    summary="The Agents and SandboxAgents a ScheduledRun may target",
    responses={
        200: answer("Targets", {"type": "array", "items": ref("AgentTarget")}),
        **failures(),
    },
)
async def list_agents(request: Request, namespace: NamespaceFilter = None) -> JSONResponse:
    client, caller = kube(request), token(request)
    targets: list[dict[str, Any]] = []
    for kind, target in api.TARGET_KINDS.items():

        async def lister(ns: str | None, plural: str = target.plural) -> list[Any]:
            try:
                return await client.list_targets(plural, ns, caller)
            except KubeError as exc:
                if exc.status == 404:  # that kind's CRD is not installed
                    return []
                raise

        items = await visible(request, namespace, lister)
        targets.extend(views.agent_target(item, kind) for item in items)
    targets.sort(key=lambda t: (t["namespace"], t["name"], t["kind"]))
    return ok(targets, f"{len(targets)} agents")
