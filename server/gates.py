"""How much work the server takes on at once, so no caller (and no crowd of them) can grow it
past its pod's memory limit or stall the others: lists stream through a bounded number of
slots, a few per caller. A caller over its share is told to come back (429); when every slot is
busy for LIST_WAIT, the server is (503). Both with Retry-After."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from server.envelope import ApiError

# Lists streaming at once. Each holds about a piece (server.kube.STREAM_PIECE) and
# server.listjson.HOLD (~330 KiB) however large the list, so memory is bounded by this times
# that (bench/api_bench.py measures it); more at once would only share the same CPU thinner.
LIST_SLOTS: Final = 16
# Lists of one caller at once: a page of the UI asks for two (ScheduledRuns and agents), a
# second tab two more.
USER_LISTS: Final = 4
LIST_WAIT: Final = 30.0  # seconds a list waits for a slot before the server says it is busy


class ListGate:
    def __init__(
        self, slots: int = LIST_SLOTS, per_user: int = USER_LISTS, wait: float = LIST_WAIT
    ) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.per_user = per_user
        self.wait = wait
        self.users: Counter[str] = Counter()

    @asynccontextmanager
    async def enter(self, user: str) -> AsyncIterator[None]:
        """One list of `user` (its token; empty in local mode) while the block runs."""
        if self.users[user] >= self.per_user:
            raise ApiError(
                429,
                "TooManyRequests",
                f"at most {self.per_user} lists of one caller at once: try again shortly",
                headers={"Retry-After": "1"},
            )
        self.users[user] += 1
        try:
            try:
                await asyncio.wait_for(self.slots.acquire(), self.wait)
            except TimeoutError:
                raise ApiError(
                    503,
                    "ServerBusy",
                    "every list slot of the server is busy: try again shortly",
                    headers={"Retry-After": "2"},
                ) from None
            try:
                yield
            finally:
                self.slots.release()
        finally:
            self.users[user] -= 1
            if self.users[user] <= 0:
                del self.users[user]


async def gated(gate: ListGate, user: str, pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`pieces` while holding one of `gate`'s slots for `user` (ApiError, before anything is
    yielded, when there is none)."""
    async with gate.enter(user):
        async for piece in pieces:
            yield piece
