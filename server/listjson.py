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
from collections.abc import AsyncIterator
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


async def array_stream(pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The items of streamed lists (KubeClient.stream_list's pieces, an empty piece starting
    each page) as the bytes of one JSON array: a comma between pages that hold items."""
    yield b"["
    wrote = False
    boundary = False
    async for piece in pieces:
        if not piece:
            boundary = True
            continue
        if boundary and wrote:
            yield b","
        boundary = False
        wrote = True
        yield piece
    yield b"]"


# The longest tail of a list the streaming splitter expects: `],"kind":"…List","metadata":
# {"continue":…,"resourceVersion":…}}` is far shorter (a continue token is a few hundred bytes).
HOLD: Final = 64 * 1024
_HEAD_MAX: Final = 4096  # `{"apiVersion":"<group/version>","items":[` is far shorter


class ListSplitter:
    """`split_list` for a page that arrives in chunks: `feed` returns the bytes that are
    certainly items, `finish` the rest of them and the list's metadata. It holds at most `hold`
    bytes (and a chunk), whatever the page's size. A page of another layout is collected whole
    and split the slow way (the apiserver never writes one)."""

    def __init__(self, hold: int = HOLD) -> None:
        self._hold = hold
        self._held = bytearray()
        self._in_items = False
        self._whole: bytearray | None = None

    def feed(self, chunk: bytes) -> bytes:
        if self._whole is not None:
            self._whole += chunk
            return b""
        self._held += chunk
        if not self._in_items:
            head = _HEAD.match(self._held)
            if head is None:
                if len(self._held) > _HEAD_MAX or not _could_be_head(self._held):
                    self._whole, self._held = self._held, bytearray()
                return b""
            del self._held[: head.end()]
            self._in_items = True
        # Everything before the last `],"kind":"` is items; so is a candidate followed by more
        # than `hold` bytes (the list's tail is shorter). Keep the rest, and enough to see a
        # candidate that a chunk boundary cut.
        candidate = self._held.rfind(_TAIL)
        if candidate >= 0 and len(self._held) - candidate <= self._hold:
            keep = candidate
        else:
            keep = max(0, len(self._held) - (len(_TAIL) - 1))
        out = bytes(self._held[:keep])
        del self._held[:keep]
        return out

    def finish(self) -> tuple[bytes, dict[str, Any]]:
        """(the last of the items' bytes, the list's metadata); ValueError if not a list."""
        if self._whole is not None or not self._in_items:
            return split_list(bytes(self._whole if self._whole is not None else self._held))
        held = bytes(self._held)
        tail = held.rfind(_TAIL)
        if tail < 0:
            raise ValueError("the list has no end")
        rest = orjson.loads(b"{" + held[tail + 2 :])
        if not isinstance(rest, dict) or set(rest) != {"kind", "metadata"}:
            raise ValueError("the list ends unexpectedly")
        metadata = rest["metadata"] if isinstance(rest["metadata"], dict) else {}
        return held[:tail], metadata


def _could_be_head(held: bytearray) -> bool:
    """Whether `held` may still grow into the list's head (a prefix of one)."""
    prefix = b'{"apiVersion":"'
    if len(held) <= len(prefix):
        return prefix.startswith(bytes(held))
    return held.startswith(prefix)
