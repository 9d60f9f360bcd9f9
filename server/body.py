"""A request's JSON body, bounded: at most MAX_BODY bytes whether declared or chunked (413
beyond), and bad JSON is a 400 that says so. A dependency (`body: JsonBody`), so a route reads
it only after the caller is authenticated."""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from fastapi import Depends, Request

from server.envelope import ApiError

MAX_BODY: Final = 1024 * 1024  # 1 MiB: far above any valid ScheduledRun (prompt <= 32 KiB)


async def read_bytes(request: Request) -> bytes:
    """The request's body, at most MAX_BODY bytes (413 beyond, even when chunked)."""
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
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    """The request's JSON body (bounded: read_bytes), 400 if it is not JSON."""
    return _decoded(await read_bytes(request))


async def read_optional_json(request: Request) -> Any:
    """The request's JSON body, None when it has none (a trigger may send one or not)."""
    raw = await read_bytes(request)
    return _decoded(raw) if raw.strip() else None


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "BadRequest", f"the body is not JSON: {exc}") from exc


async def read_object(body: Annotated[Any, Depends(read_json)]) -> dict[str, Any]:
    """The body as a JSON object (a ScheduledRun), else 400."""
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the body must be a JSON object (a ScheduledRun)")
    return body


JsonBody = Annotated[Any, Depends(read_json)]
OptionalJsonBody = Annotated[Any, Depends(read_optional_json)]
ObjectBody = Annotated[dict[str, Any], Depends(read_object)]
