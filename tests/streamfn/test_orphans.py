"""streamfn.orphans against a real Redis: pending entries whose consumer is no live runner,
summed over a function's partition queues; idle and groupless streams count nothing."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn import partitions
from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.orphans import layouts_of, read_orphaned
from streamfn.settings import Settings


async def deliver(redis: Redis, keys: Keys, queue: str, consumer: str, count: int) -> None:
    reply = await redis.xreadgroup(GROUP, consumer, {keys.stream(queue): ">"}, count=count)
    assert sum(len(entries) for _, entries in reply) == count


async def test_counts_entries_of_gone_consumers_over_every_queue(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    client = Client(redis, settings)
    hot = partitions.queues("hot", 2)
    for queue in ["echo", *hot]:
        for _ in range(3):
            await redis.xadd(keys.stream(queue), {"id": "x", "p": "null"})
        await redis.sadd(keys.active(keys.tag(queue)), queue)
        await redis.xgroup_create(keys.stream(queue), GROUP, "0")
    await deliver(redis, keys, "echo", "live-1-aaaa", 2)
    await deliver(redis, keys, "echo", "gone-2-bbbb", 1)
    await deliver(redis, keys, hot[0], "gone-2-bbbb", 1)
    await deliver(redis, keys, hot[1], "gone-3-cccc", 2)
    await client.enqueue("idle", None, delay=60)  # a timer only: no stream, nothing pending
    queues = layouts_of(
        [{"name": "echo"}, {"name": "hot", "partitions": 2}, {"name": "idle", "partitions": 1}]
    )
    assert queues["hot"] == hot
    found = await read_orphaned(redis, keys, queues, {"live-1-aaaa"})
    assert found == {"echo": 1, "hot": 3, "idle": 0}
    assert await read_orphaned(redis, keys, queues, {"live-1-aaaa", "gone-2-bbbb"}) == {
        "echo": 0,
        "hot": 2,
        "idle": 0,
    }


async def test_a_busy_stream_without_a_group_has_no_orphans(redis: Redis, keys: Keys) -> None:
    await redis.xadd(keys.stream("echo"), {"id": "x", "p": "null"})
    await redis.sadd(keys.active(keys.tag("echo")), "echo")
    assert await read_orphaned(redis, keys, {"echo": ["echo"]}, set()) == {"echo": 0}
    assert await read_orphaned(redis, keys, {}, set()) == {}
