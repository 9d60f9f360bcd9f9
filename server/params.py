"""The path, query and header parameters the routes share, each checked before a handler runs:
a name the apiserver would refuse (or answer 500 for) never reaches it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query

from runner.api import NAME_MAX, NAME_PATTERN, NAMESPACE_MAX, NAMESPACE_PATTERN

Namespace = Annotated[
    str,
    Path(pattern=NAMESPACE_PATTERN, max_length=NAMESPACE_MAX, description="The object's namespace"),
]
Name = Annotated[
    str, Path(pattern=NAME_PATTERN, max_length=NAME_MAX, description="The ScheduledRun's name")
]
NamespaceFilter = Annotated[
    str | None,
    Query(pattern=NAMESPACE_PATTERN, max_length=NAMESPACE_MAX, description="Only this namespace"),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=r'^(\*|(W/)?"?[0-9]{1,20}"?)$',
        description="The ETag of a GET (the resourceVersion): a stale write gets 409",
    ),
]
Count = Annotated[int, Query(ge=1, le=100, description="How many fire times")]
