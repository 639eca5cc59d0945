"""streamfn.subscriber: a change of channels resubscribes and resyncs, on a node or a cluster."""

from __future__ import annotations

from typing import Any

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.subscriber import Subscriber
from tests.support.procs import wait_until


async def test_set_channels_moves_the_subscription_and_resyncs(redis: AnyRedis, keys: Keys) -> None:
    first, later = keys.done_channel("a"), keys.done_channel("hot@3.2")  # different slots
    seen: list[Any] = []
    resyncs = []

    async def resync() -> None:
        resyncs.append(1)

    sub = Subscriber(redis, [first], seen.append, resync, name="test listener", poll=0.05)
    await sub.start()
    try:
        await wait_until(lambda: _true(len(resyncs) == 1), 5, what="the first subscribe")
        sub.set_channels([first])  # the same set: no resubscribe
        sub.set_channels([first, later])

        async def both_heard() -> bool:
            await redis.spublish(later, "x")
            await redis.spublish(first, "y")
            return b"x" in seen and b"y" in seen

        await wait_until(both_heard, 5, interval=0.1, what="messages on the new channel")
        assert len(resyncs) == 2  # one resubscribe, and a resync with it
    finally:
        await sub.stop()


async def _true(value: bool) -> bool:
    return value
