"""streamfn.loop: the shape every background loop shares (ticks, wake-ups, errors survived)."""

from __future__ import annotations

import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from streamfn.loop import Backoff, Loop, Periodic
from tests.support.procs import wait_until


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    backoff = Backoff()
    assert [backoff.next() for _ in range(8)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    backoff.reset()
    assert backoff.next() == 0.05


class Scripted(Loop):
    """Raises what ``raises`` holds, one per tick, then counts quiet ticks."""

    name = "scripted"

    def __init__(self, interval: float, raises: list[Exception]) -> None:
        super().__init__(interval, logger=logging.getLogger("tests.loop"))
        self.raises = raises
        self.ticks = 0

    async def tick(self) -> None:
        self.ticks += 1
        if self.raises:
            raise self.raises.pop(0)


async def test_errors_are_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    loop = Scripted(0.01, [RedisConnectionError("gone"), ZeroDivisionError("bug")])
    with caplog.at_level(logging.WARNING, logger="tests.loop"):
        await loop.start()
        try:

            async def three() -> bool:
                return loop.ticks >= 3

            await wait_until(three, 5, what="three ticks")
        finally:
            await loop.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert "scripted: Redis error (gone); retrying in 0.05 s" in messages
    assert "scripted failed; continuing" in messages
    assert any(r.exc_info for r in caplog.records)  # the bug's traceback
    assert loop.backoff.failures == 0  # reset by the quiet tick


async def test_wake_runs_the_next_tick_now() -> None:
    loop = Scripted(3600, [])
    await loop.start()
    try:

        async def ticked(n: int) -> bool:
            return loop.ticks >= n

        await wait_until(lambda: ticked(1), 5, what="the first tick")
        loop.wake()
        await wait_until(lambda: ticked(2), 5, what="the woken tick")
    finally:
        await loop.stop()
    assert loop.stopping


async def test_periodic_waits_one_interval_before_its_first_call() -> None:
    calls: list[int] = []

    async def work() -> None:
        calls.append(1)

    periodic = Periodic("p", 3600, work)
    await periodic.start()
    try:
        assert calls == []
        periodic.wake()

        async def called() -> bool:
            return calls == [1]

        await wait_until(called, 5, what="the woken call")
    finally:
        await periodic.stop()
