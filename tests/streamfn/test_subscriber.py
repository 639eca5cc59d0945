"""streamfn.subscriber: messages, and a resync after every (re)subscribe that covers a gap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.settings import Settings
from streamfn.subscriber import Subscriber
from tests.support.procs import wait_until

pytestmark = pytest.mark.single_node  # the one-node path; the cluster tier skips it


@pytest.fixture
async def named(settings: Settings) -> AsyncIterator[Redis]:
    """A client whose connections carry a name of this test's own, to find (and kill) them."""
    client = Redis.from_url(settings.redis_url, client_name=f"sub-{settings.namespace}")
    yield client
    await client.aclose()


async def test_messages_arrive_and_a_reconnect_resyncs(
    named: Redis, redis: Redis, settings: Settings
) -> None:
    # Shard channels of different slots, as a waiter hub's are: one SSUBSCRIBE takes them all.
    channel, other = f"{{{settings.namespace}:a}}:chan", f"{{{settings.namespace}:b}}:chan"
    durable = f"{settings.namespace}:log"  # what a resync re-reads
    seen: list[Any] = []
    resyncs: list[list[bytes]] = []

    async def resync() -> None:
        resyncs.append(await named.lrange(durable, 0, -1))

    sub = Subscriber(named, [channel, other], seen.append, resync, name="test listener", poll=0.05)
    await sub.start()
    try:

        async def subscribed() -> bool:
            counts = await redis.pubsub_shardnumsub(channel, other)
            return len(resyncs) == 1 and [n for _, n in counts] == [1, 1]

        await wait_until(subscribed, 5, what="the first subscribe")
        await redis.spublish(channel, "one")
        await redis.spublish(other, "two")

        async def got_one() -> bool:
            return seen == [b"one", b"two"]

        await wait_until(got_one, 5, what="the message")
        # Cut the connection; what is published meanwhile only the durable list keeps.
        clients = await redis.client_list()
        ours = [c["id"] for c in clients if c.get("name") == f"sub-{settings.namespace}"]
        await redis.rpush(durable, "three")
        for client_id in ours:
            await redis.client_kill_filter(_id=client_id)

        async def resynced() -> bool:
            return len(resyncs) >= 2

        await wait_until(resynced, 10, what="the resubscribe")
    finally:
        await sub.stop()
    assert resyncs[0] == [] and resyncs[-1] == [b"three"]
