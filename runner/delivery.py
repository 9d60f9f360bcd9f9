"""`spec.delivery`: where a finished run's answer goes, and what each destination is sent. Pure.

Each destination names a Secret key holding its URL (and optionally one holding an HMAC key);
the rendered pod gets them as `valueFrom.secretKeyRef` environment variables (`env_name`), so the
runner needs no Secret rights. Whether a run is sent (`skip_reason`: `when`, `onChange`), the
body in each format (`FORMATS`: `json`, `slack`), the signature headers (`headers`), what an
answer from a receiver means for a retry (`verdict`), and the per-destination record in the
run's history entry (`item`, `with_result`, `summary`) are decided here; `runner.webhook` does
the HTTP and `runner.run` the order: record `Sending`, send, record the result (exactly once,
unless the runner dies between the send and that record: the idempotency key is for that case).

To add a format: write a function `(Report) -> dict` here, add it to `FORMATS`, and add its
name to the CRD's `spec.delivery[].format` enum.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from runner import previous

MAX_DESTINATIONS: Final = 5
# The agent's answer as sent: the whole of it up to this many bytes of UTF-8, then cut on a
# character boundary with a note (the history keeps only 1024 characters of it).
ANSWER_MAX_BYTES: Final = 256 * 1024
ERROR_MAX_CHARS: Final = 256
STATUSES: Final = ("Succeeded", "Failed", "Timeout", "DispatchFailed")
# A destination's state in the history entry: Sending is written before the request goes out.
Result = Literal["Sending", "Delivered", "Failed", "Skipped"]
RESULTS: Final = ("Sending", "Delivered", "Failed", "Skipped")
FINAL_RESULTS: Final = frozenset({"Delivered", "Failed", "Skipped"})

ENV_PREFIX: Final = "SCHEDULEDRUN_DELIVERY_"
HEADER_TIMESTAMP: Final = "X-ScheduledRun-Timestamp"
HEADER_SIGNATURE: Final = "X-ScheduledRun-Signature"
HEADER_DESTINATION: Final = "X-ScheduledRun-Delivery"
HEADER_IDEMPOTENCY: Final = "Idempotency-Key"
PAYLOAD_TYPE: Final = "kagent.dev/scheduledrun.run"
PAYLOAD_VERSION: Final = 1


@dataclass(frozen=True)
class Destination:
    """One entry of `spec.delivery`."""

    name: str
    format: str = "json"
    when: frozenset[str] = frozenset(STATUSES)
    on_change: bool = False
    signed: bool = False


def env_name(destination: str, what: Literal["URL", "KEY"]) -> str:
    """The pod's environment variable holding a destination's URL or key. Names are DNS labels
    (letters, digits, '-'), so upper-cased with '_' for '-' they stay distinct."""
    return f"{ENV_PREFIX}{destination.upper().replace('-', '_')}_{what}"


def destinations(spec: Mapping[str, Any]) -> list[Destination]:
    """The destinations of a spec (admitted by the CRD; anything unreadable is left out and
    reported by `generator.spec.validate`)."""
    found: list[Destination] = []
    for entry in spec.get("delivery") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        when = entry.get("when")
        found.append(
            Destination(
                name=entry["name"],
                format=str(entry.get("format") or "json"),
                when=frozenset(when) if isinstance(when, list) and when else frozenset(STATUSES),
                on_change=entry.get("onChange") is True,
                signed=isinstance(entry.get("signingKey"), Mapping),
            )
        )
    return found[:MAX_DESTINATIONS]


def previous_status(run_history: Sequence[Mapping[str, Any]], own: Mapping[str, Any]) -> str | None:
    """The status of the finished run before `own` (for onChange), None for the first run."""
    before = previous.previous(run_history, own)
    return str(before.get("status")) if before is not None else None


def skip_reason(destination: Destination, status: str, previous_status: str | None) -> str | None:
    """Why this run is not sent to `destination`, or None to send it. Under `onChange`, a
    schedule without a previous run counts as having succeeded: a first run that passes stays
    quiet, a first run that fails is sent."""
    if status not in destination.when:
        shown = ", ".join(s for s in STATUSES if s in destination.when)
        return f"{status} is not in when ({shown})"
    if destination.on_change and status == (previous_status or "Succeeded"):
        return f"onChange: {status} again, as the previous run"
    return None


def cut_answer(text: str, limit: int = ANSWER_MAX_BYTES) -> tuple[str, bool, int]:
    """(the answer as sent, whether it was cut, its full size in UTF-8 bytes): at most `limit`
    bytes, cut on a character boundary, ending with a note that says so."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, False, len(data)
    note = f"\n\n[answer cut at {limit} bytes of {len(data)}; the whole is in the agent's session]"
    room = max(0, limit - len(note.encode("utf-8")))
    head = data[:room].decode("utf-8", errors="ignore")  # a split character is dropped whole
    return head + note, True, len(data)


@dataclass(frozen=True)
class Report:
    """What every format is made from: the run's entry and the agent's answer."""

    namespace: str
    name: str
    entry: Mapping[str, Any]
    answer: str
    session_link: str | None = None

    @property
    def idempotency_key(self) -> str:
        return f"{self.namespace}/{self.entry.get('id')}"


_ENTRY_FIELDS: Final = (
    "id",
    "trigger",
    "scheduledTime",
    "startTime",
    "endTime",
    "status",
    "message",
    "sessionID",
    "taskID",
)


def json_payload(report: Report) -> dict[str, Any]:
    """The `json` format (the README's "What the receiver gets")."""
    answer, cut, size = cut_answer(report.answer)
    run = {k: report.entry[k] for k in _ENTRY_FIELDS if report.entry.get(k) is not None}
    return {
        "type": PAYLOAD_TYPE,
        "version": PAYLOAD_VERSION,
        "idempotencyKey": report.idempotency_key,
        "scheduledRun": {"namespace": report.namespace, "name": report.name},
        "run": run,
        "sessionLink": report.session_link,
        "answer": answer,
        "answerTruncated": cut,
        "answerBytes": size,
    }


# Slack's documented limits (docs.slack.dev, Block Kit reference): at most 50 blocks; a header's
# plain_text at most 150 characters; a section's text at most 3000, its fields at most 10 of at
# most 2000 each; a context at most 10 elements. The answer takes at most SLACK_ANSWER_BLOCKS
# sections, so a long answer stays one readable message.
SLACK_HEADER_MAX: Final = 150
SLACK_SECTION_MAX: Final = 3000
SLACK_FIELD_MAX: Final = 2000
SLACK_ANSWER_BLOCKS: Final = 12
_SLACK_MARK: Final = {"Succeeded": ":white_check_mark:", "Failed": ":x:", "Timeout": ":hourglass:"}


def slack_escape(text: str) -> str:
    """Text for Slack's mrkdwn: `&`, `<` and `>` escaped, as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(report: Report) -> dict[str, Any]:
    """The `slack` format: an incoming webhook's `{"text", "blocks"}`."""
    entry = report.entry
    status = str(entry.get("status"))
    title = f"{report.namespace}/{report.name}: {status}"
    facts = [
        ("Run", f"{entry.get('id')} ({entry.get('trigger') or 'Scheduled'})"),
        ("Scheduled", entry.get("scheduledTime") or "manual run"),
        ("Started", entry.get("startTime")),
        ("Ended", entry.get("endTime")),
    ]
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{k}*\n{slack_escape(str(v))}", SLACK_FIELD_MAX)}
        for k, v in facts
        if v
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, SLACK_HEADER_MAX)}},
        {"type": "section", "fields": fields},
    ]
    answer = slack_escape(report.answer.strip() or str(entry.get("message") or "(no answer)"))
    room = SLACK_SECTION_MAX * SLACK_ANSWER_BLOCKS
    if len(answer) > room:
        note = f"\n[answer cut at {room} of {len(answer)} characters; the whole is in the session]"
        answer = answer[: room - len(note)] + note
    for start in range(0, len(answer), SLACK_SECTION_MAX):
        chunk = answer[start : start + SLACK_SECTION_MAX]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    if report.session_link:
        link = f"<{report.session_link}|Open the session>"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
    mark = _SLACK_MARK.get(status, ":warning:")
    return {"text": f"{mark} {title} ({entry.get('id')})", "blocks": blocks}


FORMATS: Final[dict[str, Callable[[Report], dict[str, Any]]]] = {
    "json": json_payload,
    "slack": slack_payload,
}


def body(destination: Destination, report: Report) -> bytes:
    """The request body for `destination`: its format's JSON, UTF-8."""
    render = FORMATS.get(destination.format)
    if render is None:
        raise ValueError(f"unknown delivery format {destination.format!r}")
    return json.dumps(render(report), ensure_ascii=False).encode("utf-8")


def signature(key: bytes, timestamp: int, payload: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `"<timestamp>." + body` under `key` (Stripe's
    scheme: the timestamp is signed too, so a receiver can refuse an old request replayed)."""
    mac = hmac.new(key, str(timestamp).encode("ascii") + b"." + payload, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(
    destination: Destination, report: Report, payload: bytes, key: bytes | None, timestamp: int
) -> dict[str, str]:
    """The headers of one attempt (a fresh timestamp, and so signature, on each)."""
    sent = {
        "Content-Type": "application/json",
        "User-Agent": "kagent-scheduledrun",
        HEADER_IDEMPOTENCY: report.idempotency_key,
        HEADER_DESTINATION: destination.name,
        HEADER_TIMESTAMP: str(timestamp),
    }
    if key is not None:
        sent[HEADER_SIGNATURE] = signature(key, timestamp, payload)
    return sent


Verdict = Literal["delivered", "retry", "stop"]


def verdict(code: int | None) -> Verdict:
    """What an attempt's answer means: 2xx delivered; no answer (a connection error, no answer
    in time), 408, 429 and 5xx are retried within the budget; a redirect (never followed) and
    any other 4xx stop at once."""
    if code is None or code in (408, 429) or code >= 500:
        return "retry"
    if 200 <= code < 300:
        return "delivered"
    return "stop"


def item(name: str, result: Result, attempts: int = 0, **fields: Any) -> dict[str, Any]:
    """One destination's record in the history entry's `delivery` list."""
    recorded: dict[str, Any] = {"name": name, "result": result, "attempts": attempts}
    for key, value in fields.items():
        if value is None:
            continue
        recorded[key] = _cut(value, ERROR_MAX_CHARS) if isinstance(value, str) else value
    return recorded


def with_result(entry: Mapping[str, Any], recorded: Mapping[str, Any]) -> dict[str, Any]:
    """`entry` with `recorded` replacing the destination of its name (or added at the end)."""
    kept = list(entry.get("delivery") or [])
    names = [d.get("name") for d in kept]
    if recorded["name"] in names:
        kept[names.index(recorded["name"])] = dict(recorded)
    else:
        kept.append(dict(recorded))
    return {**entry, "delivery": kept}


def sending(entry: Mapping[str, Any]) -> list[str]:
    """Destinations recorded as Sending: a runner stopped between the send and its record."""
    return [str(d["name"]) for d in entry.get("delivery") or [] if d.get("result") == "Sending"]


def summary(entry: Mapping[str, Any]) -> str | None:
    """`status.lastDelivery` (`kubectl get sr -o wide`): `<run>: <name> <result>, ...`, a
    failure with its last HTTP code."""
    shown = []
    for d in entry.get("delivery") or []:
        detail = ""
        if d.get("result") == "Failed":
            detail = f" (HTTP {d['code']})" if d.get("code") else " (no answer)"
        shown.append(f"{d.get('name')} {d.get('result')}{detail}")
    if not shown:
        return None
    return _cut(f"{entry.get('id')}: {', '.join(shown)}", 512)
