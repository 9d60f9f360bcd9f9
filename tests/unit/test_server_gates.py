"""server.gates: how many lists stream at once, per caller and per server, and what a caller
over its share (429) or a server with every slot busy (503) is told. The memory this bounds is
measured by bench/api_bench.py."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from server.envelope import ApiError
from server.gates import ListGate


async def test_a_caller_over_its_share_is_429_and_others_still_list() -> None:
    gate = ListGate(slots=8, per_user=2, wait=1.0)
    async with AsyncExitStack() as held:
        for _ in range(2):
            await held.enter_async_context(gate.enter("tenant"))
        with pytest.raises(ApiError) as refused:
            await held.enter_async_context(gate.enter("tenant"))
        async with gate.enter("someone-else"):
            pass
    assert (refused.value.status, refused.value.headers) == (429, {"Retry-After": "1"})
    async with gate.enter("tenant"):  # the share is back once its lists ended
        pass
    assert gate.users == {}


async def test_with_every_slot_busy_a_list_waits_then_is_503() -> None:
    gate = ListGate(slots=2, per_user=4, wait=0.2)
    async with AsyncExitStack() as held:
        await held.enter_async_context(gate.enter("a"))
        await held.enter_async_context(gate.enter("b"))
        with pytest.raises(ApiError) as busy:
            await held.enter_async_context(gate.enter("c"))
    assert busy.value.status == 503

    # A list that waits gets a slot freed within the wait.
    async with AsyncExitStack() as held:
        await held.enter_async_context(gate.enter("a"))
        async with gate.enter("b"):
            waiting = asyncio.create_task(_one(gate, "c"))
            await asyncio.sleep(0.05)
            assert not waiting.done()
    await asyncio.wait_for(waiting, 1.0)


async def _one(gate: ListGate, user: str) -> None:
    async with gate.enter(user):
        pass
