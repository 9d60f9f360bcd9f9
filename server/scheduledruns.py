"""The `/api/scheduledruns` resource: kagent's list, create, get, update and delete, and what a
good UI needs beyond them (validate, next fire times, suspend, resume). Each handler is thin:
read from the cluster through its `Kube` dependency, decide with `server.answers`, answer in
kagent's envelope. The cluster's refusals pass through with their status. A ScheduledRun's runs
(history, trigger) are in `server.runs`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse

from generator.spec.policies import pause_to_resume
from generator.spec.validate import validate_scheduledrun
from runner import api
from runner.kube import KubeError, scheduledruns_path
from server import answers
from server.body import JsonBody, ObjectBody
from server.creator import Caller, creator_of, owned_by
from server.dependencies import ROUTE_NEEDS, Config, Cpu, Kube, Lists, Token
from server.envelope import ApiError, ok
from server.gates import gated
from server.kube import KubeClient
from server.listjson import array_stream
from server.openapi import answer, failures, ref
from server.params import Count, IfMatch, Name, Namespace, NamespaceFilter
from server.visible import visible_stream

router = APIRouter(prefix="/api/scheduledruns", tags=["scheduledruns"], dependencies=ROUTE_NEEDS)

SCHEDULEDRUN: Final = ref("ScheduledRun")
# An update without a precondition (kagent's edit form sends the spec only) is read, changed and
# written with the read's resourceVersion; a write in between is a 409 that is retried this often.
UPDATE_ATTEMPTS: Final = 5
BODY: Final = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": SCHEDULEDRUN}},
    }
}


@router.get(
    "",
    summary="List ScheduledRuns in every namespace the caller may list",
    responses={
        200: answer("The ScheduledRuns", {"type": "array", "items": SCHEDULEDRUN}),
        **failures(),
    },
)
async def list_scheduledruns(
    kube: Kube, token: Token, lists: Lists, namespace: NamespaceFilter = None
) -> Response:
    # Streamed through as the apiserver writes them (server.listjson): no decoding, and a
    # bounded number of lists at once (server.gates), so memory does not grow with the lists.
    pieces = gated(lists, token or "", visible_stream(kube, namespace, kube.stream_scheduledruns))
    first = await anext(pieces, None)  # a refusal (403, 404, 429) is answered as such

    async def body() -> AsyncIterator[bytes]:
        async def items() -> AsyncIterator[bytes]:
            if first is not None:
                yield first
                async for piece in pieces:
                    yield piece

        yield b'{"error":false,"data":'
        async for part in array_stream(items()):
            yield part
        yield b',"message":"ScheduledRuns"}'

    return StreamingResponse(body(), media_type="application/json")


@router.post(
    "",
    status_code=201,
    summary="Create a ScheduledRun (validated by the operator's own validator first)",
    description="As kagent's UI and scripts send it: `apiVersion` and `kind` may be omitted, "
    "and `metadata.namespace` (the server's default namespace, `--default-namespace`). Only "
    "`metadata.name`, `namespace`, `labels`, `annotations` and `spec` are sent on.",
    openapi_extra=BODY,
    responses={201: answer("Created", SCHEDULEDRUN, etag=True), **failures(404, 409, 413, 422)},
)
async def create_scheduledrun(
    kube: Kube, cpu: Cpu, config: Config, body: ObjectBody, user: Caller
) -> JSONResponse:
    completed = answers.with_defaults(body, config.default_namespace)
    problems = await cpu.run(validate_scheduledrun, completed)
    if problems:
        raise answers.invalid(problems)
    namespace = completed["metadata"].get("namespace")
    if not isinstance(namespace, str):
        raise ApiError(400, "BadRequest", "metadata.namespace must be a namespace's name")
    new = owned_by(answers.new_object(completed, namespace), user)  # kagent.dev/created-by
    created = await kube.create_scheduledrun(namespace, new)
    return ok(created, "ScheduledRun created", 201, {"ETag": answers.etag(created)})


@router.post(
    "/validate",
    summary="The validator's full verdict and the next fire times of an unsaved ScheduledRun",
    description="Nothing is written. `valid` is false with every problem listed, as "
    "`scheduledrun validate` lists them.",
    openapi_extra=BODY,
    responses={200: answer("The verdict", ref("Verdict")), **failures(413)},
)
async def validate(
    cpu: Cpu, kube: Kube, token: Token, lists: Lists, body: JsonBody, count: Count = 5
) -> JSONResponse:
    try:
        async with lists.enter(token or ""):  # a list, bounded like the others (server.gates)
            others = await neighbours(kube, body)
    except ApiError:  # the caller's lists (or the server's) are all busy: no counts this time
        others = answers.Neighbours()
    result = await cpu.run(answers.verdict, body, datetime.now(UTC), count, others)
    return ok(result, "valid" if result["valid"] else f"{len(result['problems'])} problems")


async def neighbours(kube: Kube, body: Any) -> answers.Neighbours:
    """The ScheduledRuns the caller may list in the object's namespace, and in the cluster:
    whatever the caller's RBAC refuses is left out of the counts (the verdict stands)."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None

    async def listed(where: str | None) -> list[dict[str, Any]] | None:
        try:
            # Only what a fire time needs, page by small page: a tenant's annotations and
            # histories are never all decoded at once.
            return await kube.list_slim(scheduledruns_path(where), answers.schedule_fields)
        except KubeError as exc:
            if exc.status in (401, 403, 404):
                return None
            raise

    cluster = await listed(None)
    if cluster is not None:
        own = [o for o in cluster if (o.get("metadata") or {}).get("namespace") == namespace]
        return answers.Neighbours(own, cluster)
    if not isinstance(namespace, str) or not namespace:
        return answers.Neighbours()
    return answers.Neighbours(await listed(namespace) or [])


@router.get(
    "/{namespace}/{name}",
    summary="Get a ScheduledRun; its ETag is the resourceVersion",
    responses={200: answer("The ScheduledRun", SCHEDULEDRUN, etag=True), **failures(404)},
)
async def get_scheduledrun(kube: Kube, namespace: Namespace, name: Name) -> JSONResponse:
    obj = await kube.get_scheduledrun(namespace, name)
    return ok(obj, "ScheduledRun", headers={"ETag": answers.etag(obj)})


@router.put(
    "/{namespace}/{name}",
    summary="Replace a ScheduledRun's spec (and labels/annotations if sent)",
    description="A body with `spec` only (kagent's edit form) applies that spec to the current "
    "object. With the resourceVersion last read (If-Match or metadata.resourceVersion) it "
    "applies only to that version: a stale one gets 409. A missing object is 404 before "
    "anything else is judged. Status is the cluster's and is ignored.",
    openapi_extra=BODY,
    responses={
        200: answer("Updated", SCHEDULEDRUN, etag=True),
        **failures(404, 409, 413, 422),
    },
)
async def update_scheduledrun(
    kube: Kube,
    cpu: Cpu,
    namespace: Namespace,
    name: Name,
    body: ObjectBody,
    user: Caller,
    if_match: IfMatch = None,
) -> JSONResponse:
    meta = body.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise ApiError(400, "BadRequest", "metadata must be an object")
    for key, value in (("name", name), ("namespace", namespace)):
        if meta.setdefault(key, value) != value:
            raise ApiError(400, "BadRequest", f"metadata.{key} {meta[key]!r} is not {value!r}")
    sent_version = meta.get("resourceVersion")
    wanted = answers.if_match_version(if_match)
    if wanted is None and isinstance(sent_version, str) and sent_version:
        wanted = answers.resource_version(sent_version)
    if isinstance(sent_version, str) and sent_version and sent_version != wanted:
        raise ApiError(409, "Conflict", "If-Match and metadata.resourceVersion disagree")
    for _ in range(UPDATE_ATTEMPTS):
        current = await kube.get_scheduledrun(namespace, name)  # a missing object: 404 first
        version = wanted or str(current["metadata"]["resourceVersion"])
        # The creator stays; one is named (the caller) only when the object had none.
        candidate = owned_by(
            answers.replacement(current, body, version), creator_of(current) or user
        )
        problems = await cpu.run(validate_scheduledrun, candidate)
        if problems:
            raise answers.invalid(problems)
        try:
            updated = await kube.replace_scheduledrun(namespace, name, candidate)
        except KubeError as exc:
            if exc.status != 409 or wanted is not None:
                raise  # the caller's precondition is stale: its 409
            continue  # someone wrote between our read and write: read again
        return ok(updated, "ScheduledRun updated", headers={"ETag": answers.etag(updated)})
    raise ApiError(
        409,
        "Conflict",
        f"the ScheduledRun changed {UPDATE_ATTEMPTS} times while "
        "this update was applied: try again",
    )


@router.delete(
    "/{namespace}/{name}",
    summary="Delete a ScheduledRun (its CronJob and Jobs go with it)",
    description="With If-Match, only if it is still that resourceVersion (else 409).",
    responses={200: answer("Deleted", {"type": "object"}), **failures(404, 409)},
)
async def delete_scheduledrun(
    kube: Kube, namespace: Namespace, name: Name, if_match: IfMatch = None
) -> JSONResponse:
    await kube.delete_scheduledrun(namespace, name, answers.if_match_version(if_match))
    return ok({}, "ScheduledRun deleted")


async def _set_suspend(
    kube: KubeClient, namespace: str, name: str, if_match: str | None, suspend: bool
) -> JSONResponse:
    patch: dict[str, Any] = {"spec": {"suspend": suspend}, "metadata": {}}
    version = answers.if_match_version(if_match)
    if version:
        patch["metadata"]["resourceVersion"] = version
    if not suspend:
        # A pause after failures is not spec.suspend: resuming names the standing pause, as
        # `scheduledrun resume` does, so the operator lifts it and counts failures afresh.
        since = pause_to_resume(await kube.get_scheduledrun(namespace, name))
        if since is not None:
            patch["metadata"]["annotations"] = {api.ANNOTATION_RESUME: since}
    obj = await kube.patch_scheduledrun(namespace, name, patch)
    word = "suspended" if suspend else "resumed"
    return ok(obj, f"ScheduledRun {word}", headers={"ETag": answers.etag(obj)})


@router.post(
    "/{namespace}/{name}/suspend",
    summary="Suspend scheduled runs (manual runs still work); only spec.suspend changes",
    responses={200: answer("Suspended", SCHEDULEDRUN, etag=True), **failures(404, 409, 422)},
)
async def suspend(
    kube: Kube, namespace: Namespace, name: Name, if_match: IfMatch = None
) -> JSONResponse:
    return await _set_suspend(kube, namespace, name, if_match, True)


@router.post(
    "/{namespace}/{name}/resume",
    summary="Resume scheduled runs: spec.suspend false, and a pause after failures lifted",
    responses={200: answer("Resumed", SCHEDULEDRUN, etag=True), **failures(404, 409, 422)},
)
async def resume(
    kube: Kube, namespace: Namespace, name: Name, if_match: IfMatch = None
) -> JSONResponse:
    return await _set_suspend(kube, namespace, name, if_match, False)


@router.get(
    "/{namespace}/{name}/next",
    summary="The next fire times, as the Kubernetes CronJob controller will fire them",
    description="The same times as `scheduledrun next NAME`; none while the schedule cannot "
    "fire. A suspended ScheduledRun still shows when it would fire.",
    responses={200: answer("Fire times", ref("NextRuns")), **failures(404)},
)
async def next_runs(
    kube: Kube, cpu: Cpu, namespace: Namespace, name: Name, count: Count = 5
) -> JSONResponse:
    obj = await kube.get_scheduledrun(namespace, name)
    result = await cpu.run(answers.next_runs, obj, datetime.now(UTC), count)
    return ok(result, f"{len(result['times'])} fire times")
