"""A list's items as the apiserver's own JSON bytes, without decoding them.

Listing 1000 ScheduledRuns is 4 MB of JSON; decoding it into Python objects and encoding it
again cost the REST API more than the apiserver's own work (bench/api_bench.py). The apiserver
writes a list compactly with its keys in order, `{"apiVersion":…,"items":[…],"kind":"…List",
"metadata":{…}}`, so the items are the bytes between the first `[` after `"items":` and the last
`],"kind":"` (a quote inside a string is always escaped, so that run can only be the list's own
structure, and it is the last such run because the list's metadata follows it). Anything else
is decoded and encoded the slow way, so an unexpected layout costs time, never correctness.
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson

_HEAD: Final = re.compile(rb'\A\{"apiVersion":"[^"\\]*","items":\[')
_TAIL: Final = b'],"kind":"'


def split_list(body: bytes) -> tuple[bytes, dict[str, Any]]:
    """(the items' bytes, comma-separated, possibly empty; the list's metadata)."""
    head = _HEAD.match(body)
    tail = body.rfind(_TAIL)
    if head is not None and tail >= head.end():
        try:
            rest = orjson.loads(b"{" + body[tail + 2 :])
        except orjson.JSONDecodeError:
            rest = None
        if isinstance(rest, dict) and set(rest) == {"kind", "metadata"}:
            metadata = rest["metadata"] if isinstance(rest["metadata"], dict) else {}
            return body[head.end() : tail], metadata
    decoded = orjson.loads(body)
    if not isinstance(decoded, dict):
        raise ValueError("the list is not a JSON object")
    items = b",".join(orjson.dumps(item) for item in decoded.get("items") or [])
    return items, decoded.get("metadata") or {}


def json_array(chunks: list[bytes]) -> bytes:
    """One JSON array of the items of several lists."""
    return b"[" + b",".join(chunk for chunk in chunks if chunk) + b"]"
