"""read_stream_stats: XLEN and oldest-entry age of the streams their tags' active sets name."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from streamfn import partitions
from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB
from streamfn.settings import Settings
from streamfn.stream_stats import StreamStat, read_stream_stats


async def test_depth_and_age(redis: Redis, keys: Keys) -> None:
    old_ms = int(time.time() * 1000) - 30_000
    await redis.xadd(keys.stream("a"), {"id": "1"}, id=f"{old_ms}-0")
    await redis.xadd(keys.stream("a"), {"id": "2"})
    await redis.sadd(keys.active(keys.tag("a")), "a")  # what the scripts do with an XADD
    stats = await read_stream_stats(redis, keys, ["a", "missing"])
    assert stats["a"].depth == 2
    assert 25 < stats["a"].oldest_age_s < 60
    assert stats["missing"] == StreamStat(0, 0.0)


async def test_an_idle_queue_is_not_read_and_queues_sum_per_function(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    queues = partitions.queues("hot", 3)
    for q in queues[1:]:
        code = partitions.code(3, int(q.rsplit(".", 1)[1]))
        await rdb.enqueue("hot", new_invocation_id("hot", code), b"1")
    await redis.xadd(keys.stream("idle"), {"id": "x"})  # the index never heard of it
    stats = await read_stream_stats(redis, keys, [*queues, "idle"])
    assert stats["hot"].depth == 2 and stats["hot"].oldest_age_s < 5
    assert stats["idle"] == StreamStat(0, 0.0)  # an unindexed stream reads as idle
    await rdb.reindex(["idle"])
    assert (await read_stream_stats(redis, keys, ["idle"]))["idle"].depth == 1


@pytest.fixture
def rdb(redis: Redis, settings: Settings) -> RDB:
    return RDB(redis, settings)


async def test_no_functions_no_round_trip(redis: Redis, keys: Keys) -> None:
    assert await read_stream_stats(redis, keys, []) == {}
