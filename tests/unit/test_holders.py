"""generator.operator.holders: one watch by name per CronJob that holds a ScheduledRun's name,
woken at each deletion, watched again after the API server ends a watch or fails, and ended by
`release`. The API client is a fake with the one method the watches use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.base_protocol import BaseProtocol

from generator.operator import kube as kube_module
from generator.operator.holders import Holders
from runner.kube import KubeError


class Rounds:
    """Each call of `cronjob_deletions` plays the next round: a number of deletions to report,
    or an error to raise; after the last round a watch waits for ever."""

    def __init__(self, *rounds: int | KubeError) -> None:
        self.rounds = list(rounds)
        self.calls: list[tuple[str, str]] = []

    async def cronjob_deletions(self, namespace: str, name: str) -> AsyncIterator[None]:
        self.calls.append((namespace, name))
        if not self.rounds:
            await asyncio.Event().wait()
        round_ = self.rounds.pop(0)
        if isinstance(round_, KubeError):
            raise round_
        for _ in range(round_):
            yield None


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_each_deletion_wakes_and_a_name_is_watched_once() -> None:
    woken: list[tuple[str, str]] = []

    async def wake(namespace: str, name: str) -> None:
        woken.append((namespace, name))

    kube = Rounds(2)
    holders = Holders(kube, wake, pause=0, retry_after=0)
    holders.hold("team-a", "nightly")
    holders.hold("team-a", "nightly")
    await settle()

    assert woken == [("team-a", "nightly")] * 2
    assert kube.calls == [("team-a", "nightly")] * 2  # the first watch ended: watched again
    assert list(holders.watches) == [("team-a", "nightly")]
    holders.stop()
    assert holders.watches == {}


async def test_an_error_is_logged_and_the_name_watched_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    woken: list[str] = []

    async def wake(namespace: str, name: str) -> None:
        woken.append(name)

    kube = Rounds(KubeError(0, "Unreachable", "connection refused"), 1)
    holders = Holders(kube, wake, pause=0, retry_after=0)
    holders.hold("team-a", "nightly")
    await settle()

    assert woken == ["nightly"]
    assert "connection refused" in caplog.text
    holders.release("team-a", "nightly")
    await settle()
    assert holders.watches == {}


async def test_a_bug_while_watching_is_logged_and_the_name_watched_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    woken: list[str] = []

    async def wake(namespace: str, name: str) -> None:
        if not woken:
            woken.append("first")
            raise RuntimeError("a bug in the wake-up")
        woken.append(name)

    holders = Holders(Rounds(1, 1), wake, pause=0, retry_after=0)
    holders.hold("team-a", "nightly")
    await settle()

    assert woken == ["first", "nightly"]
    assert "a bug in the wake-up" in caplog.text
    assert not holders.watches[("team-a", "nightly")].done()
    holders.stop()


async def test_release_cancels_the_watch() -> None:
    async def wake(namespace: str, name: str) -> None:
        raise AssertionError("nothing was deleted")

    holders = Holders(Rounds(), wake)
    holders.hold("team-a", "nightly")
    await settle()
    task = holders.watches[("team-a", "nightly")]
    holders.release("team-a", "nightly")
    await settle()
    assert task.cancelled()
    holders.release("team-a", "nightly")  # released twice: nothing more


async def lines_of(*chunks: bytes) -> list[bytes]:
    stream = aiohttp.StreamReader(
        BaseProtocol(asyncio.get_running_loop()), 2**20, loop=asyncio.get_running_loop()
    )
    for chunk in chunks:
        stream.feed_data(chunk)
    stream.feed_eof()
    return [line async for line in kube_module._lines(stream)]


async def test_watch_lines_are_whole_across_chunks_and_of_any_length() -> None:
    long = b'{"type":"DELETED","object":{"spec":"' + b"x" * 300_000 + b'"}}'
    got = await lines_of(b'{"type":"ADD', b'ED"}\n\n', long[:1000], long[1000:] + b"\n", b'{"a":1}')
    assert got == [b'{"type":"ADDED"}', long, b'{"a":1}']
