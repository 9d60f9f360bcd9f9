"""The foreign CronJobs that keep ScheduledRuns from their CronJob's name, each watched by name.

kopf's CronJob and Job watches ask the API server for the operator's labelled objects only
(kopf_settings.py): other teams' CronJobs and Jobs, and each change of their status at every run,
never reach the operator, nor stay in kopf's per-object memory. The one foreign CronJob that
matters is one holding the name a ScheduledRun renders (a conflict, controller.py): its deletion
must free the name at once (issue 22 §4), not at the conflict's next recheck. So each such name
gets a watch of its own, by name, for as long as some ScheduledRun is kept from it; each deletion
it sees wakes those ScheduledRuns, whose reconcile reads the name again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from runner.kube import KubeError

logger = logging.getLogger(__name__)

# Between two watches of a name: the next one starts with a listing, so a deletion in between is
# still seen; the pause keeps a watch the API server ends at once from becoming a busy loop.
PAUSE: Final = 1.0
# After an error (the API server unreachable, the watch refused).
RETRY_AFTER: Final = 10.0

Name = tuple[str, str]  # (namespace, CronJob name)


class Deletions(Protocol):
    def cronjob_deletions(self, namespace: str, name: str) -> AsyncIterator[None]: ...


@dataclass
class Holders:
    """`hold(namespace, name)` while a ScheduledRun is kept from the name; `release` when none
    is; `wake(namespace, name)` is awaited at each deletion seen."""

    kube: Deletions
    wake: Callable[[str, str], Awaitable[None]]
    pause: float = PAUSE
    retry_after: float = RETRY_AFTER
    watches: dict[Name, asyncio.Task[None]] = field(default_factory=dict)

    def hold(self, namespace: str, name: str) -> None:
        """Watch `name` unless it is watched already."""
        if (namespace, name) not in self.watches:
            task = asyncio.create_task(
                self._watch(namespace, name), name=f"holder {namespace}/{name}"
            )
            self.watches[(namespace, name)] = task

    def release(self, namespace: str, name: str) -> None:
        task = self.watches.pop((namespace, name), None)
        if task is not None:
            task.cancel()

    def stop(self) -> None:
        for key in list(self.watches):
            self.release(*key)

    async def _watch(self, namespace: str, name: str) -> None:
        while True:
            try:
                async for _ in self.kube.cronjob_deletions(namespace, name):
                    await self.wake(namespace, name)
            except KubeError as exc:
                logger.warning(
                    "watching CronJob %s/%s, which holds a ScheduledRun's name: %s; again in "
                    "%.0f s",
                    namespace,
                    name,
                    exc,
                    self.retry_after,
                )
                await asyncio.sleep(self.retry_after)
            except Exception:  # a bug here must not end this name's watch for good: log, go on
                logger.exception("watching CronJob %s/%s failed", namespace, name)
                await asyncio.sleep(self.retry_after)
            await asyncio.sleep(self.pause)
