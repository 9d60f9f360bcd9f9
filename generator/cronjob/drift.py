"""Where a live CronJob no longer says what the operator rendered for it.

The operator owns its CronJobs: a `kubectl edit` or `kubectl patch` of one (a schedule of
`* * * * *`, `suspend: false` on a CronJob suspended for a missing target, another image) must be
put back, not merely noticed through the operator's own spec-hash annotation, which such an edit
leaves alone. The comparison covers exactly the fields the operator renders: the API server adds
defaults (a pod's `dnsPolicy`, a fieldRef's `apiVersion`) that are nobody's edit, so the live
object is read through the shape of the desired one. A list must match item for item, so an
added container or env entry counts too. Pure; `describe` turns the differences into the text of
the `CronJobReverted` event and log line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

ABSENT: Final = "<absent>"
VALUE_CHARS: Final = 60  # a value in a message: enough for a schedule or an image reference
SHOWN: Final = 5  # differences named in one message; the rest are counted


@dataclass(frozen=True)
class Difference:
    """`path` (as a jsonpath would spell it) holds `have` where the operator wants `want`."""

    path: str
    want: Any
    have: Any


def differences(desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[Difference]:
    """The rendered fields of `desired` whose value in `live` differs, depth first."""
    found: list[Difference] = []
    _compare(desired, live, "", found)
    return found


def _compare(want: Any, have: Any, path: str, found: list[Difference]) -> None:
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            found.append(Difference(path, want, have))
            return
        for key, value in want.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in have:
                found.append(Difference(where, value, ABSENT))
            else:
                _compare(value, have[key], where, found)
    elif isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            found.append(Difference(path, want, have))
            return
        for index, (w, h) in enumerate(zip(want, have, strict=True)):
            _compare(w, h, f"{path}[{index}]", found)
    elif want != have:
        found.append(Difference(path, want, have))


def _shown(value: Any) -> str:
    if value == ABSENT:
        return ABSENT
    if isinstance(value, list):
        return f"{len(value)} item(s)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def describe(found: Sequence[Difference]) -> str:
    """`spec.schedule "* * * * *" -> "0 2 * * *"; spec.suspend false -> true`, at most SHOWN."""
    parts = [f"{d.path} {_shown(d.have)} -> {_shown(d.want)}" for d in found[:SHOWN]]
    if len(found) > SHOWN:
        parts.append(f"and {len(found) - SHOWN} more")
    return "; ".join(parts)
