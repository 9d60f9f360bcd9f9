"""Whose a ScheduledRun is: kagent's `kagent.dev/created-by` annotation, which the runner sends as
the run's user (`X-User-Id`), so the run's session is the creator's in kagent's UI.

The REST API writes it from the authenticated caller: on create always (a claim in the body is
replaced), on update only when the stored object has none (an edit by someone else keeps the
creator). The caller is the Kubernetes user of the request's token (`client` mode), or in
`local` mode kagent's `?user_id=` when the UI sends one, else the kubeconfig's user. Who may
write another name with kubectl is the cluster's decision: the chart's ValidatingAdmissionPolicy
lets a request set it only to the requester's own name or to a user the requester may
impersonate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends

from runner import api
from server.auth import AuthMode
from server.dependencies import Config, KagentUser, Kube


def creator_of(obj: Mapping[str, Any]) -> str:
    """The creator an object names, or ""."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    found = annotations.get(api.ANNOTATION_CREATED_BY) if isinstance(annotations, Mapping) else ""
    return found if isinstance(found, str) else ""


def owned_by(obj: Mapping[str, Any], user: str) -> dict[str, Any]:
    """`obj` naming `user` as its creator (unchanged when `user` is empty)."""
    if not user:
        return dict(obj)
    metadata = dict(obj.get("metadata") or {})
    annotations = metadata.get("annotations")
    kept = dict(annotations) if isinstance(annotations, Mapping) else {}
    metadata["annotations"] = {**kept, api.ANNOTATION_CREATED_BY: user}
    return {**obj, "metadata": metadata}


async def caller(
    kube: Kube,
    config: Config,
    user_id: KagentUser,
) -> str:
    """The user a new ScheduledRun belongs to (see the module docstring)."""
    if config.auth_mode == AuthMode.LOCAL and user_id and user_id.strip():
        return user_id.strip()
    return await kube.username()


Caller = Annotated[str, Depends(caller)]
