"""cancel_done.lua: a runner records that it stopped an invocation; fenced to the owner."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.rdb import RDB, Completion
from tests.lua.helpers import FN, Delivered, pending, record, run_one


def stopped(d: Delivered) -> Completion:
    return Completion(
        FN, d.entry_id, d.invocation_id, 12, error={"type": "Cancelled"}, mode="cancel"
    )


async def test_owner_records_cancelled(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    assert await rdb.cancel_running(d.invocation_id) == (True, "cancelling")
    assert await rdb.finish_many("r1", [stopped(d)]) == ["cancelled"]
    rec = await record(redis, keys, d.invocation_id)
    assert rec["status"] == "cancelled" and rec["duration_ms"] == "12"
    assert "entry" not in rec
    assert await redis.pttl(keys.invocation(FN, d.invocation_id)) > 0
    assert await pending(redis, keys.stream(FN)) == []
    assert await redis.xlen(keys.stream(FN)) == 0
    assert await redis.zrange(keys.cancels(FN), 0, -1) == []


async def test_a_runner_that_lost_the_entry_changes_nothing(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    assert await rdb.cancel_running(d.invocation_id) == (True, "cancelling")
    assert await rdb.finish_many("r2", [stopped(d)]) == ["stale"]
    assert (await record(redis, keys, d.invocation_id))["status"] == "queued"
    # The request stays for whoever owns the entry now.
    assert await redis.zrange(keys.cancels(FN), 0, -1) == [d.entry_id.encode()]
