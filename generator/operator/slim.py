"""What the operator keeps of a ScheduledRun between its watch event and its reconcile: only what
the reconcile reads, so its memory is bounded by what it needs, not by what tenants store.

A tenant may give each ScheduledRun 256 KiB of annotations, a `last-applied-configuration` copy of
the whole object and managed fields as large (issue 22: 300 such objects took the operator past
its 256 MiB limit at every start). The reconcile reads the spec, the status (the sweep rewrites
`runHistory` whole, so it is kept whole), the identity and version of the object (name,
namespace, uid, generation, resourceVersion, creationTimestamp) and the annotations the project
names (`runner/api.py`); any other metadata goes at once. A project annotation with a value
longer than any the project writes is kept as a digest: it still changes when the value does,
and it means nothing to the reconcile, as the long value would not. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from runner import api

# The annotations of a ScheduledRun the project reads or writes.
KEPT_ANNOTATIONS: Final = frozenset({api.ANNOTATION_RESUME, api.ANNOTATION_CREATED_BY})
KEPT_METADATA: Final = (
    "name",
    "namespace",
    "uid",
    "generation",
    "resourceVersion",
    "creationTimestamp",
)
# Longer than any value the project writes (a time, a user name of at most a few hundred bytes).
ANNOTATION_VALUE_MAX: Final = 1024


def scheduledrun(body: Mapping[str, Any]) -> dict[str, Any]:
    """`body` without what the reconcile never reads (no copy of what is kept)."""
    meta = body.get("metadata") or {}
    kept: dict[str, Any] = {k: meta[k] for k in KEPT_METADATA if k in meta}
    annotations = {
        k: _bounded(v) for k, v in (meta.get("annotations") or {}).items() if k in KEPT_ANNOTATIONS
    }
    if annotations:
        kept["annotations"] = annotations
    slim: dict[str, Any] = {
        "apiVersion": body.get("apiVersion", api.API_VERSION),
        "kind": body.get("kind", api.KIND),
        "metadata": kept,
    }
    for part in ("spec", "status"):
        if part in body:
            slim[part] = body[part]
    return slim


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > ANNOTATION_VALUE_MAX:
        return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    return value


def size(value: Any) -> int:
    """Roughly the bytes `value` (decoded JSON) takes in this process: CPython's object sizes,
    a string at 1 byte a character when ASCII, else 4 (the widest: never an under-estimate).
    An estimate for a budget, not an accounting: within a factor of about two of
    `sys.getsizeof` summed over the tree."""
    if isinstance(value, str):
        return 49 + len(value) * (1 if value.isascii() else 4)
    if isinstance(value, Mapping):
        return 64 + sum(72 + size(k) + size(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return 56 + sum(8 + size(v) for v in value)
    return 32
