"""read_stream_stats: XLEN and oldest-entry age per stream, in one round trip."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.stream_stats import StreamStat, read_stream_stats


async def test_depth_and_age(redis: Redis, keys: Keys) -> None:
    old_ms = int(time.time() * 1000) - 30_000
    await redis.xadd(keys.stream("a"), {"id": "1"}, id=f"{old_ms}-0")
    await redis.xadd(keys.stream("a"), {"id": "2"})
    stats = await read_stream_stats(redis, keys, ["a", "missing"])
    assert stats["a"].depth == 2
    assert 25 < stats["a"].oldest_age_s < 60
    assert stats["missing"] == StreamStat(0, 0.0)


async def test_no_functions_no_round_trip(redis: Redis, keys: Keys) -> None:
    assert await read_stream_stats(redis, keys, []) == {}
