"""The `/api/scheduledruns` resource: kagent's list, create, get, update and delete, and what a
good UI needs beyond them (validate, next fire times, suspend, resume). Each handler is thin:
read from the cluster through its `Kube` dependency, decide with `server.answers`, answer in
kagent's envelope. The cluster's refusals pass through with their status. A ScheduledRun's runs
(history, trigger) are in `server.runs`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response, StreamingResponse

from generator.spec.policies import pause_to_resume
from generator.spec.validate import validate_scheduledrun
from runner import api
from runner.kube import KubeError, scheduledruns_path
from server import answers
from server.body import JsonBody, ObjectBody
from server.creator import Caller, creator_of, owned_by
from server.dependencies import Cpu, Kube, Lists, Token, authenticate
from server.envelope import ApiError, ok
from server.gates import gated
from server.kube import KubeClient
from server.listjson import array_stream
from server.openapi import answer, failures, ref
from server.params import Count, IfMatch, Name, Namespace, NamespaceFilter
from server.visible import visible_stream

router = APIRouter(
    prefix="/api/scheduledruns", tags=["scheduledruns"], dependencies=[Depends(authenticate)]
)

SCHEDULEDRUN: Final = ref("ScheduledRun")
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
    description="`metadata.namespace` is required (the server has no namespace of its own); "
    "only `metadata.name`, `namespace`, `labels`, `annotations` and `spec` are sent on.",
    openapi_extra=BODY,
    responses={201: answer("Created", SCHEDULEDRUN, etag=True), **failures(404, 409, 413, 422)},
)
async def create_scheduledrun(kube: Kube, cpu: Cpu, body: ObjectBody, user: Caller) -> JSONResponse:
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    if not isinstance(namespace, str) or not namespace:
        raise ApiError(400, "BadRequest", "metadata.namespace is required")
    problems = await cpu.run(validate_scheduledrun, body)
    if problems:
        raise answers.invalid(problems)
    new = owned_by(answers.new_object(body, namespace), user)  # kagent.dev/created-by
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
async def validate(cpu: Cpu, kube: Kube, body: JsonBody, count: Count = 5) -> JSONResponse:
    others = await neighbours(kube, body)
    result = await cpu.run(answers.verdict, body, datetime.now(UTC), count, others)
    return ok(result, "valid" if result["valid"] else f"{len(result['problems'])} problems")


async def neighbours(kube: Kube, body: Any) -> answers.Neighbours:
    """The ScheduledRuns the caller may list in the object's namespace, and in the cluster:
    whatever the caller's RBAC refuses is left out of the counts (the verdict stands)."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None

    async def listed(where: str | None) -> list[dict[str, Any]] | None:
        try:
            return await kube.list_all(scheduledruns_path(where))
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
    description="Needs the resourceVersion last read, as If-Match or metadata.resourceVersion: "
    "a stale one gets 409, none gets 428. Status is the cluster's and is ignored.",
    openapi_extra=BODY,
    responses={
        200: answer("Updated", SCHEDULEDRUN, etag=True),
        **failures(404, 409, 413, 422, 428),
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
        wanted = sent_version
    if wanted is None:
        raise ApiError(
            428,
            "PreconditionRequired",
            "send the resourceVersion last read (If-Match or metadata.resourceVersion)",
        )
    answers.resource_version(wanted)
    if isinstance(sent_version, str) and sent_version and sent_version != wanted:
        raise ApiError(409, "Conflict", "If-Match and metadata.resourceVersion disagree")
    problems = await cpu.run(validate_scheduledrun, body)
    if problems:
        raise answers.invalid(problems)
    current = await kube.get_scheduledrun(namespace, name)
    # The creator stays; one is named (the caller) only when the object had none.
    replaced = owned_by(answers.replacement(current, body, wanted), creator_of(current) or user)
    updated = await kube.replace_scheduledrun(namespace, name, replaced)
    return ok(updated, "ScheduledRun updated", headers={"ETag": answers.etag(updated)})


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
