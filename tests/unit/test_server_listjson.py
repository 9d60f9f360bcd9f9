"""Lists pass through the REST API undecoded (server/listjson.py): the items' bytes cut from the
apiserver's answer must decode to exactly the items, for any content, and any layout that is
not the apiserver's falls back to decoding."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from server.listjson import json_array, split_list

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
