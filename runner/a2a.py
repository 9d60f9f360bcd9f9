"""A thin A2A JSON-RPC client over httpx, for protocol 0.3 and 1.0.

kagent's Python agent runtimes (kagent-adk, kagent-langgraph) speak 0.3 (a2a-sdk 0.3); its
current controller, which fronts them at `/api/a2a/{ns}/{name}/`, speaks only 1.0 (a2a-go v2) and
refuses a request without `A2A-Version: 1.0` with HTTP 400. The agent card says which one to use.

Only what one scheduled run needs: read the agent card, send one non-blocking message, read,
cancel, list (1.0) and subscribe to a task. Method names and shapes follow the official a2a-sdk
1.3.0 server (`a2a/server/routes/jsonrpc_dispatcher.py` for 1.0, `a2a/compat/v0_3` for 0.3):

| need        | 0.3                         | 1.0 (header `A2A-Version: 1.0`)      |
|-------------|-----------------------------|--------------------------------------|
| send        | `message/send`, blocking false | `SendMessage`, returnImmediately true |
| read        | `tasks/get`                 | `GetTask`                            |
| cancel      | `tasks/cancel`              | `CancelTask`                         |
| list        | (none)                      | `ListTasks` with `contextId`         |
| subscribe   | `tasks/resubscribe` (SSE)   | `SubscribeToTask` (SSE)              |
| send result | a Task or Message (`kind`)  | `{"task": …}` or `{"message": …}`    |
| states      | `working`, `input-required` | `TASK_STATE_WORKING`, …              |

Everything the agent says is reduced to a `TaskView` with 0.3-style state names, so the
lifecycle decides on one vocabulary. Errors are split by what they mean for a retry:
`Unreachable` (no connection was made, so not one byte of the request was written: the only
failure that provably never reached the agent), `BadAnswer` (HTTP error status, a redirect, or a
body that is not JSON-RPC: the agent may or may not have it), `RpcError` (the agent answered
with a JSON-RPC error, always HTTP 200), `NoAnswer` (the request went out, no reply in time),
`CredentialError` (the token file is unreadable: nothing was sent, and retrying will not help).

Every request carries the runner's identity (`runner.identity`) and goes to the one origin of
the agent's URL: redirects are never followed (the httpx client is made without), so a token
cannot be carried to another origin.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import httpx

from runner.api import AGENT_ID_MAX
from runner.identity import Identity, IdentityError
from runner.sse import EventStreamParser, EventTooLarge
from runner.transport import EncodingRefused, Refused, StdlibTransport

# Bounds on what an agent may send, so a broken or hostile one cannot exhaust the runner's 64 MiB
# pod (issues 16 and 22); together they bound what one answer costs once parsed (the most they
# let through, in tests/integration/test_hostile_runner.py, in a cgroup of the pod's limit):
# - ANSWER_MAX_BYTES: a whole answer (card, JSON-RPC response) or one event-stream event, as
#   sent (no compression: runner/transport.py asks for identity and refuses other encodings);
# - ANSWER_MAX_TEXT: the same once decoded, as CPython holds text (1, 2 or 4 bytes a character,
#   by the widest character in it), so 4 MiB of Latin-1, 2 MiB with a character past U+00FF,
#   1 MiB with one past U+FFFF: 4 MiB of ASCII with one emoji would otherwise take 16 MB, twice
#   (the document, then the string in it);
# - JSON_MAX_VALUES: objects, arrays, strings, numbers, ... (4 MiB of `[{},{},...]` is 1.4
#   million dicts, 223 MB of Python objects; 50,000 values of any kind stay under 8 MB);
# - JSON_MAX_DEPTH: nesting (A2A objects nest a handful deep).
# Each request ends by its deadline however slowly the bytes come (runner/transport.py).
ANSWER_MAX_BYTES: Final = 4 * 1024 * 1024
ANSWER_MAX_TEXT: Final = 4 * 1024 * 1024
JSON_MAX_VALUES: Final = 50_000
JSON_MAX_DEPTH: Final = 64

Protocol = Literal["0.3", "1.0"]
VERSION_HEADER = "A2A-Version"
CARD_PATH = ".well-known/agent-card.json"

TERMINAL_STATES = frozenset({"completed", "failed", "canceled", "rejected"})
INTERRUPTED_STATES = frozenset({"input-required", "auth-required"})


class A2AError(Exception):
    """A call to the agent did not give a usable answer; str() says what happened."""


class Unreachable(A2AError):
    """The request provably never reached the agent: the connection was never made (refused,
    DNS failure, TCP connect timeout, TLS handshake failure), so nothing of it was written."""


class CredentialError(A2AError):
    """The runner's own credentials could not be read; nothing was sent."""


class BadAnswer(A2AError):
    """An HTTP error status, or a body that is not a JSON-RPC response."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class Misbehaved(BadAnswer):
    """The agent answered (HTTP status and all) with what no A2A agent may send: an answer
    beyond ANSWER_MAX_BYTES, an encoding not asked for, JSON too deep or of too many values, a
    body that is not JSON-RPC, an id that cannot be recorded or names another task. It got the
    request, so nothing is sent again; the run ends with this as its message."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 200)


class NoAnswer(A2AError):
    """The request was sent and no reply came in time."""


class RpcError(A2AError):
    """The agent answered with a JSON-RPC error."""

    def __init__(self, code: object, message: object) -> None:
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code


@dataclass(frozen=True)
class TaskView:
    """What the runner needs of a task (or of a plain message reply)."""

    task_id: str
    context_id: str
    state: str  # 0.3 names: submitted, working, completed, input-required, ...
    text: str  # the status message's text, or the answer (artifacts) when completed
    is_message: bool = False  # a plain message reply: the run is finished

    @property
    def terminal(self) -> bool:
        return self.is_message or self.state in TERMINAL_STATES

    @property
    def settled(self) -> bool:
        """Nothing more will happen without someone: terminal or waiting for a person."""
        return self.terminal or self.state in INTERRUPTED_STATES


@dataclass(frozen=True)
class AgentInfo:
    """What the agent card says about talking to it."""

    protocol: Protocol
    streaming: bool


def normalize_state(raw: object) -> str:
    """`TASK_STATE_INPUT_REQUIRED` and `input-required` both become `input-required`."""
    if not isinstance(raw, str) or not raw:
        return "unknown"
    name = raw.removeprefix("TASK_STATE_").lower().replace("_", "-")
    return "unknown" if name == "unspecified" else name


def parts_text(parts: object) -> str:
    """The text parts of a message or artifact, joined (0.3 parts have `kind`, 1.0 parts not)."""
    if not isinstance(parts, list):
        return ""
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "\n".join(t for t in texts if t)


def _message_text(message: object) -> str:
    return parts_text(message.get("parts")) if isinstance(message, dict) else ""


def agent_transport() -> StdlibTransport:
    """The transport of every request to an agent: answers bounded in size."""
    return StdlibTransport(body_limit=ANSWER_MAX_BYTES)


# A JSON string (possessive: no backtracking, linear in the input whatever it holds).
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)


def json_values(data: bytes | bytearray, enough: int | None = None) -> int:
    """At most how many values `data` holds as JSON: every value is the whole document, the
    first in a non-empty array or object, or follows a comma. Strings (keys too) are cut out
    first, so their commas and brackets do not count; C-speed and linear whatever `data` is.
    With `enough`, a count of at most that many may be rough (strings left in: only more)."""

    def count(text: bytes | bytearray) -> int:
        firsts = text.count(b"[") + text.count(b"{")
        empty = text.count(b"[]") + text.count(b"{}")
        return 1 + text.count(b",") + firsts - empty

    if enough is not None and (rough := count(data)) <= enough:
        return rough  # no copy without its strings needed
    return count(_JSON_STRING.sub(b"", data))


class JsonBeyondBounds(ValueError):
    """JSON deeper than JSON_MAX_DEPTH or of more than JSON_MAX_VALUES values."""


_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that start no character
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_BEYOND_BMP = re.compile(rb"[\xf0-\xf7]")  # the first byte of a character past U+FFFF
_BEYOND_LATIN1 = re.compile(rb"[\xc4-\xef]")  # ... of one from U+0100 to U+FFFF


def text_size(data: bytes | bytearray) -> int:
    """The bytes CPython takes to hold `data` (UTF-8) decoded: its characters times the width
    of the widest (1 for Latin-1, 2 up to U+FFFF, 4 beyond)."""
    if not _NON_ASCII.search(data):
        return len(data)  # ASCII: no copy needed to count
    characters = len(data.translate(None, _CONTINUATION))
    if _BEYOND_BMP.search(data):
        return 4 * characters
    return (2 if _BEYOND_LATIN1.search(data) else 1) * characters


def parse_json(data: bytes | bytearray) -> Any:
    """JSON from an agent: ValueError when it is not JSON, JsonBeyondBounds (before anything is
    built) when its text decodes to more than ANSWER_MAX_TEXT bytes, it holds more than
    JSON_MAX_VALUES values or nests deeper than JSON_MAX_DEPTH (never a RecursionError). A
    bytearray is emptied once decoded: the raw bytes are not held while the objects are built."""
    if (size := text_size(data)) > ANSWER_MAX_TEXT:
        raise JsonBeyondBounds(f"JSON text of {size} bytes decoded (at most {ANSWER_MAX_TEXT})")
    if json_values(data, enough=JSON_MAX_VALUES) > JSON_MAX_VALUES:
        raise JsonBeyondBounds(f"JSON of more than {JSON_MAX_VALUES} values")
    text = data.decode(json.detect_encoding(data), "surrogatepass")  # as json.loads decodes
    if isinstance(data, bytearray):
        data.clear()
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonBeyondBounds(f"JSON nested deeper than {JSON_MAX_DEPTH} levels") from None
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, dict | list):
            if depth > JSON_MAX_DEPTH:
                raise JsonBeyondBounds(f"JSON nested deeper than {JSON_MAX_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            level.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return value


def checked_id(value: object, what: str) -> str:
    """An id the agent gave (task, context), as the history can hold it: at most AGENT_ID_MAX
    visible ASCII characters; Misbehaved otherwise."""
    text = "" if value is None else str(value)
    if len(text) > AGENT_ID_MAX:
        raise Misbehaved(
            f"the agent gave a {what} of {len(text)} characters (at most {AGENT_ID_MAX})"
        )
    if any(not ("!" <= c <= "~") for c in text):
        raise Misbehaved(f"the agent gave a {what} with characters other than visible ASCII")
    return text


def task_view(task: Mapping[str, Any]) -> TaskView:
    """A task object (either protocol) as a TaskView."""
    status = task.get("status") if isinstance(task.get("status"), dict) else {}
    assert isinstance(status, dict)
    state = normalize_state(status.get("state"))
    text = _message_text(status.get("message"))
    if state == "completed":
        artifacts = task.get("artifacts") if isinstance(task.get("artifacts"), list) else []
        assert isinstance(artifacts, list)
        answer = "\n".join(
            t for a in artifacts if isinstance(a, dict) and (t := parts_text(a.get("parts")))
        )
        text = answer or text
    task_id = checked_id(task.get("id", ""), "task id")
    return TaskView(task_id, checked_id(task.get("contextId", ""), "context id"), state, text)


def message_view(message: Mapping[str, Any]) -> TaskView:
    """A plain message reply as a finished TaskView."""
    return TaskView(
        checked_id(message.get("taskId", ""), "task id"),
        checked_id(message.get("contextId", ""), "context id"),
        "completed",
        _message_text(message),
        is_message=True,
    )


def result_view(result: object, protocol: Protocol) -> TaskView | None:
    """A send result or a stream event as a TaskView (None: an event without a state)."""
    if not isinstance(result, dict):
        raise BadAnswer(f"JSON-RPC result is not an object: {str(result)[:200]}")
    if protocol == "1.0":
        if isinstance(result.get("task"), dict):
            return task_view(result["task"])
        if isinstance(result.get("message"), dict):
            return message_view(result["message"])
        update = result.get("statusUpdate")
        if isinstance(update, dict):
            return task_view({"id": update.get("taskId"), **update})
        if "artifactUpdate" in result:
            return None
        if "status" in result:  # GetTask / CancelTask answer with the task itself
            return task_view(result)
        raise BadAnswer(f"unexpected A2A 1.0 result: {str(result)[:200]}")
    kind = result.get("kind")
    if kind == "message":
        return message_view(result)
    if kind == "status-update":
        return task_view({"id": result.get("taskId"), **result})
    if kind == "artifact-update":
        return None
    if kind == "task" or "status" in result:
        return task_view(result)
    raise BadAnswer(f"unexpected A2A 0.3 result: {str(result)[:200]}")


def read_card(card: object) -> AgentInfo:
    """Protocol 1.0 when the card offers a 1.x JSON-RPC interface, otherwise 0.3."""
    if not isinstance(card, dict):
        raise BadAnswer("agent card is not a JSON object")
    protocol: Protocol = "1.0" if str(card.get("protocolVersion", "")).startswith("1.") else "0.3"
    for iface in card.get("supportedInterfaces") or []:
        if not isinstance(iface, dict):
            continue
        version = str(iface.get("protocolVersion", ""))
        if iface.get("protocolBinding", "JSONRPC") == "JSONRPC" and version.startswith("1."):
            protocol = "1.0"
    capabilities = card.get("capabilities")
    streaming = isinstance(capabilities, dict) and capabilities.get("streaming") is True
    return AgentInfo(protocol, streaming)


def refusal(what: str, exc: Refused | EventTooLarge) -> Misbehaved:
    """What the agent did, when the transport or the event-stream reader refused its answer."""
    if isinstance(exc, EncodingRefused):
        return Misbehaved(f"{what} came with {exc}")
    return Misbehaved(f"{what} is too large: {exc}")


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}:{parsed.port}" if parsed.port else str(parsed.host)


@dataclass
class _Answer:
    """A response read whole, its body in a bytearray that parse_json may empty."""

    status_code: int
    headers: httpx.Headers
    body: bytearray


def _read(response: httpx.Response) -> _Answer:
    """The body as it comes, into one growing buffer (no list of chunks joined at the end, which
    would hold it twice)."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
    return _Answer(response.status_code, response.headers, body)


def _decode(answer: _Answer) -> Any:
    """The JSON-RPC result of an answer, or the right A2AError."""
    status = answer.status_code
    if 300 <= status < 400:
        target = answer.headers.get("location", "")
        raise BadAnswer(
            f"HTTP {status} redirect from the agent"
            f"{' to ' + _origin(target) if target else ''}; redirects are not followed",
            status,
        )
    if status >= 400:
        text = answer.body[:200].decode("utf-8", "replace").strip()
        raise BadAnswer(f"HTTP {status} from the agent: {text}", status)
    try:
        body = parse_json(answer.body)
    except JsonBeyondBounds as exc:
        raise Misbehaved(f"the agent's answer is too large: {exc}") from None
    except ValueError as exc:
        kind = answer.headers.get("content-type", "no content type")
        raise Misbehaved(
            f"the agent answered HTTP {status} with a body that is not JSON ({kind}): {exc}"
        ) from None
    return _rpc_result(body)


def _event_json(data: bytes) -> Any:
    try:
        return parse_json(data)
    except JsonBeyondBounds as exc:
        raise Misbehaved(f"the agent's event stream is too large: {exc}") from None
    except ValueError as exc:
        raise Misbehaved(f"event stream carried data that is not JSON: {exc}") from None


def _rpc_result(body: object) -> Any:
    if not isinstance(body, dict) or ("result" not in body and "error" not in body):
        raise Misbehaved(f"agent answered with JSON that is not JSON-RPC: {str(body)[:200]}")
    error = body.get("error")
    if error is not None:
        if isinstance(error, dict):
            raise RpcError(error.get("code"), error.get("message"))
        raise RpcError("?", error)
    return body["result"]


def _about(view: TaskView, task_id: str) -> TaskView:
    """`view`, when it is about `task_id` (or names no task); Misbehaved when it names another."""
    if task_id and view.task_id and view.task_id != task_id:
        raise Misbehaved(
            f"the agent answered about task {view.task_id[:64]!r} when asked about {task_id!r}"
        )
    return view


class A2AClient:
    """One agent endpoint (`…/api/a2a/{ns}/{name}/`) in one protocol, over one httpx client."""

    def __init__(
        self, http: httpx.Client, url: str, protocol: Protocol, identity: Identity | None = None
    ) -> None:
        self.http = http
        self.url = url if url.endswith("/") else url + "/"
        self.protocol = protocol
        self.identity = identity or Identity(user_id="")
        self._next_id = 0

    # --- transport --------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        try:
            headers = self.identity.headers()
        except IdentityError as exc:
            raise CredentialError(str(exc)) from None
        if self.protocol == "1.0":
            headers[VERSION_HEADER] = "1.0"
        return headers

    def _body(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        return {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}

    def call(self, method: str, params: Mapping[str, Any], timeout: float) -> Any:
        """One JSON-RPC call; returns its result or raises an A2AError."""
        headers = self._headers()
        try:
            with self.http.stream(
                "POST",
                self.url,
                json=self._body(method, params),
                headers=headers,
                timeout=timeout,
                extensions={"deadline": time.monotonic() + timeout},  # the whole exchange
            ) as response:
                answer = _read(response)
        except Refused as exc:
            raise refusal("the agent's answer", exc) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(
                f"agent unreachable at {self.url}: {exc or type(exc).__name__}"
            ) from exc
        except httpx.TimeoutException as exc:
            raise NoAnswer(f"no answer from the agent within {timeout:.0f}s") from exc
        except httpx.HTTPError as exc:
            raise BadAnswer(
                f"HTTP exchange with the agent failed: {exc or type(exc).__name__}"
            ) from exc
        return _decode(answer)

    def _stream(
        self,
        method: str,
        params: Mapping[str, Any],
        timeout: float,
        until: float | None,
        task_id: str = "",
    ) -> Iterator[TaskView]:
        """The TaskViews of an SSE stream until the server closes it or `until` (monotonic)
        passes; `timeout` bounds the wait for each read, keep-alive comments included, and
        `until` the whole stream, however slowly it trickles. Every event must be about
        `task_id`."""
        headers = {**self._headers(), "Accept": "text/event-stream"}
        request = self._body(method, params)
        deadline = until if until is not None else time.monotonic() + timeout
        events = EventStreamParser(ANSWER_MAX_BYTES)
        try:
            with self.http.stream(
                "POST",
                self.url,
                json=request,
                headers=headers,
                timeout=timeout,
                extensions={"deadline": deadline, "event_stream": True},
            ) as response:
                if response.status_code >= 400 or "text/event-stream" not in response.headers.get(
                    "content-type", ""
                ):
                    _decode(_read(response))  # raises the error it carries
                    raise BadAnswer("agent did not open an event stream")
                for chunk in response.iter_bytes():
                    for event in events.feed(chunk):
                        if until is not None and time.monotonic() >= until:
                            return
                        view = result_view(_rpc_result(_event_json(event.data)), self.protocol)
                        if view is not None:
                            yield _about(view, task_id)
                    if until is not None and time.monotonic() >= until:
                        return
        except (Refused, EventTooLarge) as exc:
            raise refusal("the agent's event stream", exc) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(f"agent unreachable at {self.url}: {exc}") from exc
        except httpx.TimeoutException as exc:
            if until is not None and time.monotonic() >= until:
                return  # the stream's deadline: it ends as `until` says, not as an error
            raise NoAnswer(f"no event from the agent within {timeout:.0f}s") from exc
        except httpx.HTTPError as exc:
            raise BadAnswer(f"event stream from the agent broke: {exc}") from exc

    # --- the A2A calls ----------------------------------------------------------------------

    def send(
        self,
        prompt: str,
        message_id: str,
        context_id: str,
        timeout: float,
        context: tuple[str, Mapping[str, str]] | None = None,
    ) -> TaskView:
        """Send the one message, not waiting for the task to end. `context` (text, metadata)
        becomes a second text part after the prompt's."""
        extra = [] if context is None else [{"text": context[0], "metadata": dict(context[1])}]
        if self.protocol == "1.0":
            message = {
                "messageId": message_id,
                "contextId": context_id,
                "role": "ROLE_USER",
                "parts": [{"text": prompt}, *extra],
            }
            params = {"message": message, "configuration": {"returnImmediately": True}}
            result = self.call("SendMessage", params, timeout)
        else:
            message = {
                "kind": "message",
                "messageId": message_id,
                "contextId": context_id,
                "role": "user",
                "parts": [
                    {"kind": "text", "text": prompt},
                    *({"kind": "text", **p} for p in extra),
                ],
            }
            params = {"message": message, "configuration": {"blocking": False}}
            result = self.call("message/send", params, timeout)
        view = result_view(result, self.protocol)
        if view is None:
            raise BadAnswer("agent answered the send with neither a task nor a message")
        return view

    def get(self, task_id: str, timeout: float) -> TaskView:
        method = "GetTask" if self.protocol == "1.0" else "tasks/get"
        view = result_view(self.call(method, {"id": task_id}, timeout), self.protocol)
        if view is None:
            raise BadAnswer("agent answered a task read without a task")
        return _about(view, task_id)

    def cancel(self, task_id: str, timeout: float) -> TaskView:
        method = "CancelTask" if self.protocol == "1.0" else "tasks/cancel"
        view = result_view(self.call(method, {"id": task_id}, timeout), self.protocol)
        if view is None:
            raise BadAnswer("agent answered a cancel without a task")
        return _about(view, task_id)

    def list_by_context(self, context_id: str, timeout: float) -> list[TaskView] | None:
        """The caller's tasks of a context (1.0 `ListTasks`); None when the protocol has no
        such call. An answer without a `tasks` field is a BadAnswer, never an empty list (a2a-go
        writes no tasks as `"tasks": null`)."""
        if self.protocol != "1.0":
            return None
        result = self.call("ListTasks", {"contextId": context_id}, timeout)
        if not isinstance(result, dict) or "tasks" not in result:
            raise BadAnswer(f"ListTasks answered without a task list: {str(result)[:200]}")
        tasks = result["tasks"]
        if tasks is not None and not isinstance(tasks, list):
            raise BadAnswer("ListTasks answered with tasks that are not a list")
        return [task_view(t) for t in tasks or [] if isinstance(t, dict)]

    def subscribe(
        self, task_id: str, timeout: float, until: float | None = None
    ) -> Iterator[TaskView]:
        """Stream the task's updates (the current task first) until the server closes the
        stream or `until` (time.monotonic) passes."""
        method = "SubscribeToTask" if self.protocol == "1.0" else "tasks/resubscribe"
        return self._stream(method, {"id": task_id}, timeout, until, task_id)


def fetch_card(
    http: httpx.Client, url: str, timeout: float, identity: Identity | None = None
) -> object:
    """The agent card JSON under the agent's path."""
    card_url = (url if url.endswith("/") else url + "/") + CARD_PATH
    try:
        headers = identity.headers() if identity is not None else {}
    except IdentityError as exc:
        raise CredentialError(str(exc)) from None
    try:
        with http.stream(
            "GET",
            card_url,
            headers=headers,
            timeout=timeout,
            extensions={"deadline": time.monotonic() + timeout},  # the whole exchange
        ) as response:
            answer = _read(response)
    except Refused as exc:
        raise refusal("the agent card", exc) from None
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise Unreachable(f"agent unreachable at {url}: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise NoAnswer(f"no agent card from {card_url} within {timeout:.0f}s") from exc
    except httpx.HTTPError as exc:
        raise BadAnswer(f"reading the agent card failed: {exc}") from exc
    if answer.status_code >= 300:
        where = "redirect (not followed)" if answer.status_code < 400 else "answer"
        raise BadAnswer(f"HTTP {answer.status_code} {where} for the agent card", answer.status_code)
    try:
        return parse_json(answer.body)
    except JsonBeyondBounds as exc:
        raise Misbehaved(f"the agent card is too large: {exc}") from None
    except ValueError as exc:
        raise BadAnswer(f"agent card is not JSON: {exc}") from None
