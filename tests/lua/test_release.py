"""release.lua: hand an owned entry back at the stream's tail (graceful shutdown)."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.rdb import RDB
from streamfn.scripts import lease_calls, run
from tests.lua.helpers import FN, deliver, enqueue_now, entries, pending, record


async def test_owner_release_moves_the_entry_to_the_tail(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    await enqueue_now(rdb, 2)
    first, second = await deliver(redis, keys, "r1", count=2)
    [(_, fields)] = [e for e in await entries(redis, keys.stream(FN)) if e[0] == first.entry_id]

    assert await rdb.release(FN, "r1", first.entry_id, first.invocation_id)

    stream = await entries(redis, keys.stream(FN))
    assert stream[0][0] == second.entry_id
    new_entry, new_fields = stream[-1]
    assert len(stream) == 2 and new_entry > first.entry_id
    assert new_fields == fields
    assert [p["entry"] for p in await pending(redis, keys.stream(FN))] == [second.entry_id]
    assert (await record(redis, keys, first.invocation_id))["entry"] == new_entry
    # The next read of any runner gets it at once.
    [again] = await deliver(redis, keys, "r2")
    assert (again.entry_id, again.invocation_id) == (new_entry, first.invocation_id)


async def test_new_entry_id_is_returned(redis: Redis, keys: Keys, rdb: RDB) -> None:
    [inv] = await enqueue_now(rdb)
    [d] = await deliver(redis, keys, "r1")
    new = await run(redis, lease_calls.release(keys, FN, "r1", d.entry_id, inv))
    assert new.decode() == (await record(redis, keys, inv))["entry"]


async def test_non_owner_is_refused_and_nothing_changes(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await enqueue_now(rdb)
    [d] = await deliver(redis, keys, "r1")
    stream_before = await entries(redis, keys.stream(FN))
    rec_before = await record(redis, keys, d.invocation_id)

    assert not await rdb.release(FN, "r2", d.entry_id, d.invocation_id)

    assert await entries(redis, keys.stream(FN)) == stream_before
    assert await record(redis, keys, d.invocation_id) == rec_before
    [row] = await pending(redis, keys.stream(FN))
    assert (row["entry"], row["consumer"], row["deliveries"]) == (d.entry_id, "r1", 1)


async def test_undelivered_entry_is_refused(redis: Redis, keys: Keys, rdb: RDB) -> None:
    [inv] = await enqueue_now(rdb)
    entry = (await record(redis, keys, inv))["entry"]
    assert not await rdb.release(FN, "r1", entry, inv)
    assert [e for e, _ in await entries(redis, keys.stream(FN))] == [entry]
