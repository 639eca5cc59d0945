"""cancel_running.lua: record a stop request for a running invocation and announce it."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.rdb import RDB
from tests.lua.helpers import FN, enqueue_now, listening, record, run_one


async def test_running_invocation_is_asked_to_stop(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    async with listening(redis, keys.cancel_channel(FN)) as channel:
        assert await rdb.cancel_running(d.invocation_id) == (True, "cancelling")
        assert await channel.drain() == [f"{d.invocation_id} {d.entry_id}".encode()]
    assert await redis.zrange(keys.cancels(FN), 0, -1) == [d.entry_id.encode()]
    assert await redis.pttl(keys.cancels(FN)) > 0
    rec = await record(redis, keys, d.invocation_id)
    assert rec["status"] == "queued" and "cancel_requested" in rec  # still running


async def test_not_running_is_refused_without_a_request(redis: Redis, keys: Keys, rdb: RDB) -> None:
    (queued,) = await enqueue_now(rdb)
    assert await rdb.cancel_running(queued) == (False, "queued")
    assert await rdb.cancel_running(f"{FN}." + "0" * 24) == (False, "not_found")
    assert await rdb.cancel(queued) == (True, "cancelled")
    assert await rdb.cancel_running(queued) == (False, "cancelled")
    assert await redis.exists(keys.cancels(FN)) == 0
