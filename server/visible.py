"""A list across every namespace the caller may see, as Kubernetes' RBAC allows it: across the
cluster if it may, else namespace by namespace. A namespace it may not list shows nothing, never
an error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final, TypeVar

from runner.kube import KubeError
from server.kube import KubeClient

# Parallel per-namespace lists when the caller may not list across namespaces.
NAMESPACE_FANOUT: Final = 16
T = TypeVar("T")


async def visible(
    kube: KubeClient, namespace: str | None, lister: Callable[[str | None], Awaitable[list[T]]]
) -> list[T]:
    """Items in `namespace`, or in every namespace the caller may list: across the cluster if
    allowed, else namespace by namespace (those it may list namespaces of), else in its own
    ServiceAccount's namespace."""
    if namespace is not None:
        return await lister(namespace)
    try:
        return await lister(None)
    except KubeError as exc:
        if exc.status != 403:
            raise
    namespaces = await _namespaces(kube)
    gate = asyncio.Semaphore(NAMESPACE_FANOUT)

    async def one(ns: str) -> list[T]:
        async with gate:
            try:
                return await lister(ns)
            except KubeError as exc:
                if exc.status in (403, 404):
                    return []
                raise

    pages = await asyncio.gather(*(one(ns) for ns in namespaces))
    return [item for page in pages for item in page]


async def visible_stream(
    kube: KubeClient, namespace: str | None, lister: Callable[[str | None], AsyncIterator[bytes]]
) -> AsyncIterator[bytes]:
    """`visible` for a streamed list (KubeClient.stream_list's pieces and page boundaries), one
    namespace after another when the caller may not list across them, so only one page is in
    flight. A refusal of the first list it tries is raised before anything is yielded."""
    if namespace is not None:
        async for piece in lister(namespace):
            yield piece
        return
    across = lister(None)
    try:
        first = await anext(across)
    except KubeError as exc:
        if exc.status != 403:
            raise
    else:
        yield first
        async for piece in across:
            yield piece
        return
    for ns in await _namespaces(kube):
        one = lister(ns)
        try:
            first = await anext(one)
        except StopAsyncIteration:
            continue
        except KubeError as exc:
            if exc.status in (403, 404):
                continue
            raise
        yield first
        async for piece in one:
            yield piece


async def _namespaces(kube: KubeClient) -> list[str]:
    """The namespaces the caller may list, else its own ServiceAccount's."""
    try:
        return await kube.list_namespaces()
    except KubeError as exc:
        if exc.status != 403:
            raise
    user = (await kube.username()).split(":")
    return user[2:3] if user[:2] == ["system", "serviceaccount"] else []
