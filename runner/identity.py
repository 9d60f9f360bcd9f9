"""Who the runner is to kagent: the user id kagent files the run's session and task under, and an
optional bearer token read from a mounted file (a Secret, or a projected ServiceAccount token).

kagent's controller takes the caller's user from `X-User-Id` (default `admin@kagent.dev`, the
user its UI shows) and lists only that user's tasks; with its auth turned on it also wants
`Authorization: Bearer <token>`. The token file is read on every request, so a projected token
the kubelet rotates is picked up, and its content is never kept, logged or written anywhere:
errors about it name the file only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from runner import api


class IdentityError(Exception):
    """The token file could not be read; str() names the file, never its content."""


@dataclass(frozen=True)
class Identity:
    user_id: str = api.DEFAULT_A2A_USER_ID
    token_file: str | None = None

    def headers(self) -> dict[str, str]:
        """The identity headers of one request (the token read afresh)."""
        headers = {api.USER_ID_HEADER: self.user_id} if self.user_id else {}
        if self.token_file:
            try:
                token = Path(self.token_file).read_text().strip()
            except OSError as exc:
                raise IdentityError(
                    f"cannot read the A2A token file {self.token_file}: {exc.strerror or exc}"
                ) from None
            if not token:
                raise IdentityError(f"the A2A token file {self.token_file} is empty")
            headers["Authorization"] = f"Bearer {token}"
        return headers

    @property
    def authenticated(self) -> bool:
        """Whether the agent can tell whose tasks to list: a lookup says something only then."""
        return bool(self.user_id or self.token_file)


def run_user(scheduledrun: Mapping[str, Any], default: str) -> str:
    """The user a run is sent as: the ScheduledRun's creator (`kagent.dev/created-by`, as kagent
    uses it for the run's session), else `default` (the chart-wide `a2a.userId`)."""
    annotations = (scheduledrun.get("metadata") or {}).get("annotations") or {}
    creator = annotations.get(api.ANNOTATION_CREATED_BY)
    return creator.strip() if isinstance(creator, str) and creator.strip() else default


def for_scheduledrun(identity: Identity, scheduledrun: Mapping[str, Any]) -> Identity:
    """`identity` speaking for the ScheduledRun's creator, when it names one."""
    return replace(identity, user_id=run_user(scheduledrun, identity.user_id))
