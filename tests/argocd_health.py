"""Argo CD's health check for ScheduledRuns (charts/kagent-scheduledrun/argocd/health.lua), run
by a real Lua interpreter (lupa) the way Argo CD runs it: the object as the global `obj`, the
chunk's returned table read for `status` and `message`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lupa

SCRIPT = (
    Path(__file__).resolve().parents[1] / "charts" / "kagent-scheduledrun" / "argocd" / "health.lua"
)


@dataclass(frozen=True)
class Health:
    status: str
    message: str


def health(obj: Mapping[str, Any], script: str | None = None) -> Health:
    """What Argo CD shows for `obj` (a ScheduledRun as the API server serves it)."""
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    answer = lua.execute(script if script is not None else SCRIPT.read_text(encoding="utf-8"))
    return Health(str(answer["status"]), str(answer["message"] or ""))
