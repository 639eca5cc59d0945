"""watch.lua: ask for a PUBLISH on finish; returns the stored status."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB
from tests.lua.helpers import FN, enqueue_now, listening, record, run_one, success


async def test_sets_notify_and_returns_the_status(redis: Redis, keys: Keys, rdb: RDB) -> None:
    [inv] = await enqueue_now(rdb)
    assert (await record(redis, keys, inv))["notify"] == "0"
    assert await rdb.watch(inv) == "queued"
    assert (await record(redis, keys, inv))["notify"] == "1"


async def test_final_status_is_returned_and_ttl_kept(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb)
    assert await rdb.finish_many("r1", [success(d)]) == ["succeeded"]
    pttl = await redis.pttl(keys.invocation(FN, d.invocation_id))
    assert await rdb.watch(d.invocation_id) == "succeeded"
    assert 0 < await redis.pttl(keys.invocation(FN, d.invocation_id)) <= pttl


async def test_unknown_returns_none_and_creates_no_key(redis: Redis, keys: Keys, rdb: RDB) -> None:
    inv = new_invocation_id(FN)
    assert await rdb.watch(inv) is None
    assert not await redis.exists(keys.invocation(FN, inv))


async def test_watched_completion_publishes(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb)  # enqueued without notify
    async with listening(redis, keys.done_channel(FN)) as channel:
        assert await rdb.watch(d.invocation_id) == "queued"  # stored: running is derived
        assert await rdb.finish_many("r1", [success(d)]) == ["succeeded"]
        assert await channel.drain() == [d.invocation_id.encode()]
