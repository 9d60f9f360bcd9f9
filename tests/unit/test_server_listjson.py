"""Lists pass through the REST API undecoded and streamed (server/listjson.py): the items' bytes
cut from the apiserver's answer, whole or arriving in chunks of any size, must decode to exactly
the items, for any content; the splitter never holds more than its bound; any layout that is not
the apiserver's falls back to decoding; pages join into one array."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from server.listjson import ListSplitter, array_stream, split_list

# JSON values, with the list's own structure inside strings and keys to try to fool the cut.
TRICKY = st.sampled_from(['],"kind":"', '"items":[', "]}", '\\"', "ScheduledRunList", "é\u2028"])
TEXT = st.one_of(st.text(max_size=12), TRICKY)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
ITEMS = st.lists(st.dictionaries(TEXT, VALUES, max_size=5), max_size=6)


def apiserver_list(items: list[Any], metadata: dict[str, Any]) -> bytes:
    """What the apiserver writes: compact, keys in order, a newline at the end."""
    body = {"apiVersion": "kagent.dev/v1alpha2", "items": items, "kind": "ScheduledRunList",
            "metadata": metadata}  # fmt: skip
    return orjson.dumps(body) + b"\n"


def json_array(pages: list[bytes]) -> bytes:
    """The pages' items as one array, the way the server streams them (array_stream)."""

    async def pieces() -> AsyncIterator[bytes]:
        for page in pages:
            yield b""  # a page boundary
            yield page

    async def collect() -> bytes:
        return b"".join([part async for part in array_stream(pieces())])

    return asyncio.run(collect())


@settings(max_examples=300)
@given(items=ITEMS, token=st.one_of(st.none(), TEXT))
def test_the_cut_items_are_the_items(items: list[Any], token: str | None) -> None:
    metadata = {"resourceVersion": "7"} | ({"continue": token} if token is not None else {})
    cut, found = split_list(apiserver_list(items, metadata))
    assert orjson.loads(json_array([cut])) == items
    assert found == metadata


def test_another_layout_is_decoded() -> None:
    body = json.dumps({"kind": "ScheduledRunList", "items": [{"a": 1}], "metadata": {}}, indent=1)
    cut, metadata = split_list(body.encode())
    assert (orjson.loads(json_array([cut])), metadata) == ([{"a": 1}], {})


def test_pages_join_into_one_array() -> None:
    pages = [split_list(apiserver_list(i, {}))[0] for i in ([{"a": 1}], [], [{"b": 2}, {"c": 3}])]
    assert orjson.loads(json_array(pages)) == [{"a": 1}, {"b": 2}, {"c": 3}]


@settings(max_examples=300)
@given(
    items=ITEMS,
    token=st.one_of(st.none(), TEXT),
    cuts=st.lists(st.integers(0, 4000), max_size=12),
    extra=st.integers(0, 64),
)
def test_a_page_in_chunks_streams_the_same_items(
    items: list[Any], token: str | None, cuts: list[int], extra: int
) -> None:
    """`hold`: the list's tail and up to 64 bytes more (the server's is 64 KiB)."""
    metadata = {"resourceVersion": "7"} | ({"continue": token} if token is not None else {})
    body = apiserver_list(items, metadata)
    hold = len(body) - body.rfind(b'],"kind":"') + extra
    edges = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    splitter = ListSplitter(hold=hold)
    streamed = b""
    for start, end in itertools.pairwise(edges):
        streamed += splitter.feed(body[start:end])
    last, found = splitter.finish()
    assert orjson.loads(json_array([streamed + last])) == items
    assert found == metadata


def test_a_large_page_is_held_only_to_the_bound() -> None:
    items = [
        {"metadata": {"name": f"sr-{i}"}, "spec": {"prompt": "x" * 10_000}} for i in range(300)
    ]
    body = apiserver_list(items, {"resourceVersion": "7"})
    splitter = ListSplitter()
    most = 0
    streamed = b""
    for start in range(0, len(body), 16_384):
        streamed += splitter.feed(body[start : start + 16_384])
        most = max(most, len(splitter._held))
    last, _ = splitter.finish()
    assert orjson.loads(json_array([streamed + last])) == items
    assert len(body) > 3_000_000
    assert most <= 64 * 1024
