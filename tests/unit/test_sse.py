"""runner.sse: the event-stream parser, against the specification's rules (line ends only at CR,
LF and CRLF; every other Unicode line separator is data), in any chunking, within its limit.

The A2A client over it, against an agent that sends those separators raw, is in test_a2a.py; a
whole run against kagent's runtime in tests/integration/test_runner_peers.py.
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.sse import Event, EventStreamParser, EventTooLarge

# Every character str.splitlines ends a line at, besides CR and LF.
UNICODE_SEPARATORS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def parse(*chunks: bytes, limit: int = 1024) -> list[Event]:
    parser = EventStreamParser(limit)
    return [event for chunk in chunks for event in parser.feed(chunk)]


@pytest.mark.parametrize("separator", UNICODE_SEPARATORS, ids=lambda c: f"U+{ord(c):04X}")
def test_a_unicode_line_separator_is_data(separator: str) -> None:
    text = f"one{separator}two"
    raw = f"data: {text}\n\n".encode()
    assert parse(raw) == [Event(text.encode())]


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"], ids=lambda c: f"U+{ord(c):04X}")
def test_json_with_a_raw_separator_in_a_string_reads_back(separator: str) -> None:
    body = {"jsonrpc": "2.0", "result": {"text": f"a{separator}b"}}
    raw = b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\r\n\r\n"
    [event] = parse(raw)
    assert json.loads(event.data) == body


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"data: a\n\n", [b"a"], id="lf"),
        pytest.param(b"data: a\r\r", [b"a"], id="cr"),
        pytest.param(b"data: a\r\n\r\n", [b"a"], id="crlf"),
        pytest.param(b"data: a\r\n\ndata: b\r\r\n", [b"a", b"b"], id="mixed"),
        pytest.param(b"data: a\ndata: b\n\n", [b"a\nb"], id="data-lines-joined-with-lf"),
        pytest.param(b"data:a\n\n", [b"a"], id="no-space-after-colon"),
        pytest.param(b"data:  a\n\n", [b" a"], id="only-one-space-dropped"),
        pytest.param(b"data\n\n", [b""], id="field-without-colon-is-empty-data"),
        pytest.param(b": ping\n\n: ping\ndata: a\n\n", [b"a"], id="comments"),
        pytest.param(b"event: x\nid: 7\nretry: 10\nfoo: y\n\n", [], id="no-data-no-event"),
        pytest.param(b"\xef\xbb\xbfdata: a\n\n", [b"a"], id="byte-order-mark"),
        pytest.param(b"data: a\n\ndata: b\n", [b"a"], id="unfinished-event-discarded"),
        pytest.param(b"Data: a\n\n", [], id="field-names-are-case-sensitive"),
    ],
)
def test_the_specification_rules(raw: bytes, expected: list[bytes]) -> None:
    assert [e.data for e in parse(raw)] == expected


def test_the_event_field_names_the_event() -> None:
    assert parse(b"event: status\ndata: a\n\ndata: b\n\n") == [
        Event(b"a", "status"),
        Event(b"b", "message"),
    ]


STREAM = (
    '\ufeffdata: {"a": "x\u2028y"}\r\n\r\n: keep-alive\r\rdata: one\ndata: two\u0085\n\n'
    "event: end\r\ndata: \u2029\r\n\r\n"
).encode()


@given(st.lists(st.integers(0, len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted({0, len(STREAM), *cuts})
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(points)]
    assert (
        parse(*chunks)
        == parse(STREAM)
        == [
            Event('{"a": "x\u2028y"}'.encode()),
            Event("one\ntwo\u0085".encode()),
            Event("\u2029".encode(), "end"),
        ]
    )


def test_a_cr_at_a_chunk_end_and_its_lf_make_one_line_end() -> None:
    assert parse(b"data: a\r", b"", b"\n\r", b"\n") == [Event(b"a")]


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([b"data: " + b"x" * 2000], id="one-long-line"),
        pytest.param([b"data: " + b"x" * 600, b"x" * 600], id="a-line-over-two-chunks"),
        pytest.param([b"data: xxxxxxxxxx\n" * 100], id="an-event-of-many-lines"),
        pytest.param([b": ping\n" * 200], id="comments-without-an-end"),
    ],
)
def test_beyond_the_limit_is_refused(chunks: list[bytes]) -> None:
    with pytest.raises(EventTooLarge):
        parse(*chunks, limit=1024)


def test_an_event_at_the_limit_reads() -> None:
    assert parse(b"data: " + b"x" * 1016 + b"\n\n", limit=1024) == [Event(b"x" * 1016)]


def test_the_limit_is_per_event() -> None:
    event = b": ping\ndata: " + b"x" * 1000 + b"\n\n"
    assert parse(event * 10, limit=1024) == [Event(b"x" * 1000)] * 10
