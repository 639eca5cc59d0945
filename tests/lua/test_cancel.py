"""cancel.lua: stop a scheduled or queued invocation before a runner starts it."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB
from streamfn.scripts import invocation_calls, run
from streamfn.settings import Settings
from tests.lua.helpers import (
    FN,
    assert_pttl,
    deliver,
    enqueue_now,
    entries,
    listening,
    pending,
    record,
    redis_ms,
    run_one,
    success,
)


async def test_scheduled_is_removed_from_the_wheel(
    redis: Redis, keys: Keys, rdb: RDB, settings: Settings
) -> None:
    inv = new_invocation_id(FN)
    await rdb.enqueue(FN, inv, b"1", delay_ms=60_000)

    before = await redis_ms(redis)
    assert await rdb.cancel(inv) == (True, "cancelled")
    after = await redis_ms(redis)

    assert await redis.zcard(keys.timers(FN)) == 0
    rec = await record(redis, keys, inv)
    assert rec["status"] == "cancelled"
    assert before <= int(rec["finished"]) <= after
    assert "due" not in rec and "entry" not in rec
    assert_pttl(await redis.pttl(keys.invocation(FN, inv)), int(settings.result_ttl * 1000))


async def test_queued_entry_not_yet_delivered_is_deleted(
    redis: Redis, keys: Keys, rdb: RDB, settings: Settings
) -> None:
    [keep, inv] = await enqueue_now(rdb, 2)
    assert await rdb.cancel(inv) == (True, "cancelled")

    assert [f["id"] for _, f in await entries(redis, keys.stream(FN))] == [keep]
    rec = await record(redis, keys, inv)
    assert rec["status"] == "cancelled"
    assert "entry" not in rec
    assert_pttl(await redis.pttl(keys.invocation(FN, inv)), int(settings.result_ttl * 1000))
    # A runner reading next gets the surviving entry only.
    assert [d.invocation_id for d in await deliver(redis, keys, "r1", count=10)] == [keep]


async def test_running_is_refused(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb)
    rec_before = await record(redis, keys, d.invocation_id)

    assert await rdb.cancel(d.invocation_id) == (False, "running")

    assert await record(redis, keys, d.invocation_id) == rec_before
    assert await redis.xlen(keys.stream(FN)) == 1
    assert [p["entry"] for p in await pending(redis, keys.stream(FN))] == [d.entry_id]


async def test_succeeded_is_refused(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb)
    assert await rdb.finish_many("r1", [success(d)]) == ["succeeded"]
    pttl = await redis.pttl(keys.invocation(FN, d.invocation_id))
    assert await rdb.cancel(d.invocation_id) == (False, "succeeded")
    assert (await record(redis, keys, d.invocation_id))["status"] == "succeeded"
    assert await redis.pttl(keys.invocation(FN, d.invocation_id)) <= pttl


@pytest.mark.parametrize("status", ["failed", "dead", "cancelled"])
async def test_other_final_statuses_are_refused(
    redis: Redis, keys: Keys, rdb: RDB, status: str
) -> None:
    inv = new_invocation_id(FN)
    await redis.hset(keys.invocation(FN, inv), mapping={"status": status, "payload": "1"})
    assert await rdb.cancel(inv) == (False, status)
    assert await record(redis, keys, inv) == {"status": status, "payload": "1"}
    assert await redis.pttl(keys.invocation(FN, inv)) == -1


async def test_unknown_is_not_found_and_creates_nothing(redis: Redis, keys: Keys, rdb: RDB) -> None:
    inv = new_invocation_id(FN)
    assert await rdb.cancel(inv) == (False, "not_found")
    assert not await redis.exists(keys.invocation(FN, inv))


async def test_queued_before_any_group_exists(redis: Redis, keys: Keys) -> None:
    """A record claiming an entry on a stream with no group: cancel still succeeds."""
    inv = new_invocation_id(FN)
    await redis.hset(keys.invocation(FN, inv), mapping={"status": "queued", "entry": "1-1"})
    out = await run(redis, invocation_calls.cancel(keys, FN, inv, 60_000))
    assert out == [1, b"cancelled"]
    assert not await redis.exists(keys.stream(FN))


async def test_publishes_only_when_notify(redis: Redis, keys: Keys, rdb: RDB) -> None:
    [quiet] = await enqueue_now(rdb)
    [loud] = await enqueue_now(rdb, notify=True)
    async with listening(redis, keys.done_channel(FN)) as channel:
        assert await rdb.cancel(quiet) == (True, "cancelled")
        assert await rdb.cancel(loud) == (True, "cancelled")
        assert await channel.drain() == [loud.encode()]
