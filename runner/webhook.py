"""POST one delivery to its receiver: retried with backoff within its own budget.

The receiver is as untrusted as an agent (issue 16's rules): its answer is read only up to
ANSWER_MAX_BYTES, each attempt ends by its deadline however slowly the bytes come, and a
redirect is never followed (the body, and its signature, go to the URL in the Secret only).
What an answer means is `runner.delivery.verdict`: 2xx delivered; no answer, 408, 429 and 5xx
retried until the budget is spent; any other answer stops at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

import httpx

from runner import delivery
from runner.transport import StdlibTransport

# The receiver's answer matters only for its status; a few KiB say why it refused.
ANSWER_MAX_BYTES: Final = 64 * 1024
ERROR_BODY_CHARS: Final = 200


@dataclass(frozen=True)
class Sent:
    """How one destination's delivery ended."""

    result: delivery.Result  # Delivered or Failed
    attempts: int
    code: int | None = None  # the last HTTP status, if any came
    error: str | None = None  # why the last attempt did not deliver


def receiver_transport() -> StdlibTransport:
    return StdlibTransport(body_limit=ANSWER_MAX_BYTES)


def post_once(
    http: httpx.Client, url: str, payload: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, str | None]:
    """(HTTP status or None, what went wrong or None) of one POST."""
    try:
        with http.stream(
            "POST",
            url,
            content=payload,
            headers=headers,
            timeout=timeout,
            extensions={"deadline": time.monotonic() + timeout},
        ) as response:
            code = response.status_code
            if 200 <= code < 300:
                return code, None
            if 300 <= code < 400:
                where = response.headers.get("location", "")
                return code, f"HTTP {code} redirect{' to ' + where if where else ''} not followed"
            try:
                text = response.read().decode("utf-8", errors="replace")
            except httpx.HTTPError:
                text = ""
            return code, f"HTTP {code}: {text[:ERROR_BODY_CHARS].strip()}".rstrip(": ")
    except httpx.TimeoutException:
        return None, f"no answer within {timeout:.0f}s"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"


def send(
    http: httpx.Client,
    url: str,
    payload: bytes,
    headers: Callable[[], dict[str, str]],
    budget: float,
    attempt_timeout: float,
    delays: Iterator[float],
    sleep: Callable[[float], None] = time.sleep,
    stopped: Callable[[], bool] = lambda: False,
) -> Sent:
    """Deliver `payload` to `url`: attempts until one is delivered, one stops, `budget` seconds
    are spent or `stopped()` (SIGTERM) says so. Always at least one attempt."""
    if not url.startswith(("http://", "https://")):
        return Sent("Failed", 0, error="the URL in the Secret is not http:// or https://")
    until = time.monotonic() + budget
    attempts = 0
    while True:
        attempts += 1
        left = until - time.monotonic()
        code, error = post_once(http, url, payload, headers(), max(1.0, min(attempt_timeout, left)))
        verdict = delivery.verdict(code)
        if verdict == "delivered":
            return Sent("Delivered", attempts, code)
        if verdict == "stop":
            return Sent("Failed", attempts, code, error)
        pause = next(delays)
        if stopped():
            return Sent("Failed", attempts, code, f"{error}; the runner was stopped")
        if time.monotonic() + pause >= until:
            return Sent("Failed", attempts, code, f"{error} (budget of {budget:.0f}s spent)")
        sleep(pause)
