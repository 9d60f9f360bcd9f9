"""kagent's response envelope, `{"error": ..., "data": ..., "message": "..."}`, for every answer.

Success: `error` is false, `data` the answer. Failure (every non-2xx): `error` is the readable
message, as kagent's server writes it (`{"error": "<message>"}`) and kagent's UI shows it
(`errorData.error`, else `errorData.message`); `message` says the same, and `data` holds the
machine-readable part (the HTTP status, the reason, the validator's problems).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """JSON rendered by orjson: a list of 1000 ScheduledRuns is 4 MB, and the standard library
    spends more time encoding it than the apiserver spends listing it."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:  # an integer beyond 64 bits, echoed from a request
            return super().render(content)


class ApiError(Exception):
    """An answer other than success: raised by routes, turned into the envelope by the app."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


def ok(
    data: Any, message: str, status: int = 200, headers: Mapping[str, str] | None = None
) -> FastJSONResponse:
    return FastJSONResponse(
        {"error": False, "data": data, "message": message}, status_code=status, headers=headers
    )


def failure(error: ApiError) -> FastJSONResponse:
    data = {"status": error.status, "reason": error.reason, **error.details}
    return FastJSONResponse(
        {"error": error.message or error.reason, "data": data, "message": error.message},
        status_code=error.status,
        headers=error.headers or None,
    )
