"""What the API server said of a bearer token, remembered briefly, and how often to ask it about
tokens it has not seen: shared by the REST API (is this token anyone's?) and the operator's
`/metrics` (may this token read the series?), which both answer callers they have never met.

A caller cannot make either server cost the API server one review per request: an answer is
remembered per token (by its sha256, never the token itself), allowed ones for a minute and
refused ones briefly, each kind in its own bounded table so a flood of garbage tokens never
pushes out a good one; and tokens not remembered are reviewed at a bounded rate (a token
bucket), beyond which the caller is told to come back later (429) without a review.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

# An allowed token is remembered for a minute: a revoked binding (or a deleted ServiceAccount)
# stops working within it, and a scrape or a page of the UI does not cost a review each time.
ALLOWED_TTL: Final = 60.0
# A refused token briefly: long enough that repeating one garbage token costs nothing, short
# enough that a token just created (or just granted) works within seconds.
REFUSED_TTL: Final = 10.0
REMEMBERED_MAX: Final = 1024  # tokens of each kind remembered at once
# Reviews of tokens not remembered: ten a second on average, twenty at once. One person opening
# the UI costs one; a flood of distinct garbage tokens costs the API server at most this.
REVIEW_RATE: Final = 10.0
REVIEW_BURST: Final = 20.0


# A token is visible ASCII (RFC 6750's b64token, and every Kubernetes token kind, fits): anything
# else cannot be a credential and cannot even be sent on in an HTTP header.
_TOKEN: Final = re.compile(r"[\x21-\x7e]+")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None (also for a
    token that is not visible ASCII)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _TOKEN.fullmatch(token):
        return None
    return token


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class TokenReviews:
    """`remembered(token)`: True, False or None (ask the API server, if `may_review()`); then
    `remember(token, allowed)`."""

    clock: Callable[[], float] = time.monotonic
    allowed_ttl: float = ALLOWED_TTL
    refused_ttl: float = REFUSED_TTL
    size: int = REMEMBERED_MAX
    rate: float = REVIEW_RATE
    burst: float = REVIEW_BURST
    _allowed: OrderedDict[str, float] = field(default_factory=OrderedDict)
    _refused: OrderedDict[str, float] = field(default_factory=OrderedDict)
    _tokens: float | None = None
    _filled_at: float = 0.0

    def remembered(self, token: str) -> bool | None:
        key = _key(token)
        now = self.clock()
        for table, verdict in ((self._allowed, True), (self._refused, False)):
            until = table.get(key)
            if until is None:
                continue
            if until > now:
                return verdict
            del table[key]
        return None

    def remember(self, token: str, allowed: bool) -> None:
        key = _key(token)
        table, ttl = (
            (self._allowed, self.allowed_ttl) if allowed else (self._refused, self.refused_ttl)
        )
        (self._refused if allowed else self._allowed).pop(key, None)
        table[key] = self.clock() + ttl
        table.move_to_end(key)
        while len(table) > self.size:
            table.popitem(last=False)

    def may_review(self) -> bool:
        """Whether a token not remembered may be reviewed now (takes one from the bucket)."""
        now = self.clock()
        if self._tokens is None:
            self._tokens = self.burst
        else:
            self._tokens = min(self.burst, self._tokens + (now - self._filled_at) * self.rate)
        self._filled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def retry_after(self) -> int:
        """Whole seconds until the bucket holds a review again (for a 429's Retry-After)."""
        missing = 1 - (self._tokens or 0.0)
        return max(1, int(missing / self.rate + 0.999))
