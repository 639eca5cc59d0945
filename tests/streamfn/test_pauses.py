"""streamfn.pauses against a real Redis: the first pause's time is kept, resume says whether
it was paused, a malformed value still counts as paused, and the catalog shows it."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn import pauses
from streamfn.keys import Keys
from streamfn.registry import RunnerReport, publish, read_catalog


async def test_pause_keeps_the_first_time_and_resume_says_whether_it_was_paused(
    redis: Redis, keys: Keys
) -> None:
    first = await pauses.pause(redis, keys, "echo")
    seconds, micros = await redis.time()
    assert 0 <= int(seconds) * 1000 + int(micros) // 1000 - first < 5000
    assert await pauses.pause(redis, keys, "echo") == first
    assert await pauses.read(redis, keys) == {"echo": first}
    assert await pauses.resume(redis, keys, "echo") is True
    assert await pauses.resume(redis, keys, "echo") is False
    assert await pauses.read(redis, keys) == {}


async def test_a_malformed_value_counts_as_paused(redis: Redis, keys: Keys) -> None:
    await redis.hset(keys.paused, mapping={"echo": b"not json", "slow": b"[1]"})
    assert await pauses.read(redis, keys) == {"echo": 0, "slow": 0}


async def test_the_catalog_marks_paused_entries(redis: Redis, keys: Keys) -> None:
    policy = {"timeout": 1.0, "retries": 0, "kind": "async"}
    report = RunnerReport("r1", {"echo": policy, "slow": policy}, {})
    await publish(redis, keys, report, ttl_s=60, now_ms=1)
    at = await pauses.pause(redis, keys, "echo")
    catalog = await read_catalog(redis, keys)
    assert catalog.paused == {"echo": at}
    assert (catalog.functions["echo"]["paused"], catalog.functions["echo"]["paused_at"]) == (
        True,
        at,
    )
    assert catalog.functions["slow"]["paused"] is False
    assert "paused_at" not in catalog.functions["slow"]
