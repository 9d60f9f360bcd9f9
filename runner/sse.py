"""Server-sent events read as the HTML specification's event-stream parser reads them.

Why not a line iterator: Python's `str.splitlines` (and httpx's `iter_lines`, built on it) also
ends lines at U+0085, U+2028, U+2029, U+000B, U+000C and U+001C-U+001E, which JSON carries raw
inside strings; kagent's runtime sends them so (issue 22). An event stream ends a line only at
CR, LF or CRLF, so the parser works on bytes: in UTF-8 neither byte occurs inside a multi-byte
character. The rules (https://html.spec.whatwg.org/multipage/server-sent-events.html):

- a UTF-8 byte order mark at the very start is skipped;
- an empty line dispatches the event: its `data` lines joined with LF (none: nothing dispatched);
- a line starting with `:` is a comment (keep-alives);
- otherwise the field name runs to the first `:` (the whole line when there is none) and one
  space after the colon is dropped from the value; `data` appends to the event's data, `event`
  names it, `id` and `retry` are accepted and unused (the runner never reconnects mid-stream),
  any other field is ignored;
- at the end of the stream an event without its empty line is discarded.

Pure and incremental: `feed` takes the body as it arrives and returns the events it completes.
One event may be at most `limit` bytes as sent, all its lines (comments too) and their ends
counted up to its empty line (`EventTooLarge` beyond), so memory stays bounded whatever a peer
streams, and so does the work per event: a flood of tiny lines is refused after `limit` bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"


class EventTooLarge(ValueError):
    """A line or an event's data beyond the parser's limit."""


@dataclass(frozen=True)
class Event:
    data: bytes  # the data lines, joined with LF
    type: str = "message"


class EventStreamParser:
    """Feed it the body's bytes in any pieces; it returns each event once its empty line came."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._partial = b""  # the start of a line whose end has not come yet
        self._data = bytearray()  # the event's data lines, each followed by LF
        self._type = ""
        self._size = 0  # bytes of the event so far as sent: its lines, comments and ends
        self._started = False  # past the byte order mark's place
        self._after_cr = False  # the last piece ended with CR: an LF first ends no line

    def feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        if not chunk:
            return events
        if self._after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._after_cr = chunk[-1:] == b"\r"
        # bytes.splitlines ends lines at exactly CR, LF and CRLF (str.splitlines at more).
        for piece in chunk.splitlines(keepends=True):
            self._size += len(piece)
            if self._size > self.limit:
                raise EventTooLarge(f"event-stream event larger than {self.limit} bytes")
            if piece[-1:] == b"\n":
                line = piece[:-2] if piece[-2:] == b"\r\n" else piece[:-1]
            elif piece[-1:] == b"\r":
                line = piece[:-1]
            else:  # no line end yet: the rest of the chunk
                self._partial += piece
                break
            if self._partial:
                line, self._partial = self._partial + line, b""
            if not self._started:
                self._started = True
                line = line.removeprefix(_BOM)
            if line[:5] == b"data:":  # the usual line first: one per event, or thousands
                self._data += line[6:] if line[5:6] == b" " else line[5:]
                self._data += b"\n"
            elif not line:
                if self._data:
                    events.append(Event(bytes(self._data[:-1]), self._type or "message"))
                self._data, self._type, self._size = bytearray(), "", 0
            elif line[:1] != b":":
                self._field(line)
        return events

    def _field(self, line: bytes) -> None:
        """A line other than `data:`, a comment or the empty line."""
        field, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if field == b"data":  # `data` without a colon: an empty data line
            self._data += b"\n"
        elif field == b"event":
            self._type = value.decode("utf-8", "replace")
