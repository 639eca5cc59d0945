"""Counts per status and per minute from the index (:mod:`streamfn.index.stats`)."""

from __future__ import annotations

import random
from typing import Any

from redis.asyncio import Redis

from streamfn import index
from streamfn.keys import Keys
from streamfn.rdb import RDB
from tests.index.seed import FN, QUEUES, STATUSES, Truth, seed


async def redis_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_counts_are_exact_per_status(redis: Redis, keys: Keys, rdb: RDB) -> None:
    truth = Truth()
    await seed(rdb, keys, 500, random.Random(1), truth)
    want = {s: sum(1 for v in truth.status.values() if v == s) for s in STATUSES}
    assert await index.counts(redis, keys, QUEUES) == want
    assert await index.counts(redis, keys, ["nobody"]) == dict.fromkeys(STATUSES, 0)


async def test_minutes_count_successes_and_failed_attempts(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    truth = Truth()
    await seed(rdb, keys, 300, random.Random(2), truth)
    now = await redis_ms(redis)
    rows = await index.minutes(redis, keys, QUEUES, now, span=5)
    assert [r["minute"] for r in rows] == [(now // 60_000 - 4 + i) * 60_000 for i in range(5)]
    succeeded = sum(r["succeeded"] for r in rows)
    failed = sum(r["failed"] for r in rows)
    assert succeeded == sum(1 for s in truth.status.values() if s == "succeeded")
    assert failed == sum(1 for s in truth.status.values() if s in ("failed", "dead"))


async def test_minutes_past_24_hours_are_dropped(redis: Redis, keys: Keys, rdb: RDB) -> None:
    now = await redis_ms(redis)
    minute = now // 60_000
    old = {str(minute - 2000): 5, f"{minute - 2000}:f": 1, "lo": minute - 3000}
    await redis.hset(keys.index_minutes(FN), mapping=old)  # type: ignore[arg-type]
    truth = Truth()
    await seed(rdb, keys, 50, random.Random(3), truth)
    fields: Any = await redis.hkeys(keys.index_minutes(FN))
    kept = {f.decode() for f in fields}
    assert str(minute - 2000) not in kept and f"{minute - 2000}:f" not in kept
    assert 0 < await redis.pttl(keys.index_minutes(FN)) <= 86_460_000
