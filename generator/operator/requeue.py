"""One clock for every ScheduledRun's "look again at": after each tick, on retries, and the resync.

kopf timers would give each object its own asyncio task, always alive; this is one task and one
heap for all of them, so 1000 ScheduledRuns cost 1000 heap entries, and an idle operator sleeps
until the earliest due time instead of waking per object.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Final

from runner.api import ObjectKey

Action = Callable[[ObjectKey], Awaitable[None]]

logger = logging.getLogger(__name__)

# How many due actions run at once. The operator's action only queues the key for its workers
# (controller.py: the work queue bounds the reconciles, and is fair across namespaces).
CONCURRENCY: Final = 8


class RequeueClock:
    """Due times per key; the latest `at()` for a key wins. `run()` calls the action when due."""

    def __init__(self, action: Action, clock: Callable[[], datetime] | None = None) -> None:
        self.action = action
        self.clock = clock or (lambda: datetime.now(UTC))
        self.due: dict[ObjectKey, datetime] = {}
        self.heap: list[tuple[datetime, ObjectKey]] = []
        self.wakeup = asyncio.Event()
        self.slots = asyncio.Semaphore(CONCURRENCY)
        self.tasks: set[asyncio.Task[None]] = set()

    def at(self, key: ObjectKey, when: datetime | None) -> None:
        """Look at `key` again at `when` (None: never, unless asked again)."""
        if when is None:
            self.due.pop(key, None)
            return
        if self.due.get(key) == when:
            return
        self.due[key] = when
        heapq.heappush(self.heap, (when, key))
        if self.heap[0] == (when, key):
            self.wakeup.set()
        # Superseded entries stay in the heap until popped; compact when they dominate.
        if len(self.heap) > 2 * len(self.due) + 64:
            self.heap = [(w, k) for k, w in self.due.items()]
            heapq.heapify(self.heap)

    def forget(self, key: ObjectKey) -> None:
        self.due.pop(key, None)

    def pop_due(self) -> list[ObjectKey]:
        """Keys whose time has come, removed from the schedule."""
        now = self.clock()
        keys = []
        while self.heap and self.heap[0][0] <= now:
            when, key = heapq.heappop(self.heap)
            if self.due.get(key) == when:
                del self.due[key]
                keys.append(key)
        return keys

    def seconds_to_next(self) -> float | None:
        while self.heap and self.due.get(self.heap[0][1]) != self.heap[0][0]:
            heapq.heappop(self.heap)
        if not self.heap:
            return None
        return max((self.heap[0][0] - self.clock()).total_seconds(), 0.0)

    async def run(self) -> None:
        """Forever: sleep until the earliest due time (or an earlier one is added), act."""
        while True:
            for key in self.pop_due():
                await self.slots.acquire()
                task = asyncio.create_task(self._act(key))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            self.wakeup.clear()
            delay = self.seconds_to_next()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout=delay)

    async def _act(self, key: ObjectKey) -> None:
        try:
            await self.action(key)
        except Exception:  # one object's failure must not stop the clock for the others
            logger.exception("recheck of %s/%s failed", *key)
        finally:
            self.slots.release()
