"""extend.lua: renew this runner's leases without raising delivery counts or stealing."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import GROUP, Keys
from streamfn.rdb import RDB
from tests.lua.helpers import FN, deliver, enqueue_now, pending, set_idle


async def test_own_entries_reset_idle_and_keep_delivery_count(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    await enqueue_now(rdb, 2)
    a, b = await deliver(redis, keys, "r1", count=2)
    for d in (a, b):
        await set_idle(redis, keys.stream(FN), "r1", d.entry_id, 60_000)
    assert all(p["idle"] >= 60_000 for p in await pending(redis, keys.stream(FN)))

    assert await rdb.extend(FN, "r1", [a.entry_id, b.entry_id]) == []

    rows = await pending(redis, keys.stream(FN))
    assert [(p["entry"], p["consumer"], p["deliveries"]) for p in rows] == [
        (a.entry_id, "r1", 1),
        (b.entry_id, "r1", 1),
    ]
    assert all(p["idle"] < 1000 for p in rows)


async def test_entries_reclaimed_by_another_consumer_are_lost_not_stolen(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    await enqueue_now(rdb, 2)
    mine, taken = await deliver(redis, keys, "r1", count=2)
    await redis.xclaim(keys.stream(FN), GROUP, "r2", 0, [taken.entry_id])  # deliveries -> 2
    await set_idle(redis, keys.stream(FN), "r2", taken.entry_id, 60_000)

    assert await rdb.extend(FN, "r1", [mine.entry_id, taken.entry_id]) == [taken.entry_id]

    rows = {p["entry"]: p for p in await pending(redis, keys.stream(FN))}
    assert (rows[mine.entry_id]["consumer"], rows[mine.entry_id]["deliveries"]) == ("r1", 1)
    stolen = rows[taken.entry_id]
    assert (stolen["consumer"], stolen["deliveries"]) == ("r2", 2)
    assert stolen["idle"] >= 60_000  # untouched: r1's heartbeat did not renew r2's lease


async def test_finished_entries_are_lost(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await enqueue_now(rdb)
    [d] = await deliver(redis, keys, "r1")
    await redis.xack(keys.stream(FN), GROUP, d.entry_id)
    assert await rdb.extend(FN, "r1", [d.entry_id]) == [d.entry_id]
    assert await pending(redis, keys.stream(FN)) == []


async def test_no_entries_makes_no_call(rdb: RDB) -> None:
    assert await rdb.extend(FN, "r1", []) == []


async def test_entries_deleted_while_pending_are_lost(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await enqueue_now(rdb, 2)
    gone, kept = await deliver(redis, keys, "r1", count=2)
    await redis.xdel(keys.stream(FN), gone.entry_id)

    assert await rdb.extend(FN, "r1", [gone.entry_id, kept.entry_id]) == [gone.entry_id]

    assert [p["entry"] for p in await pending(redis, keys.stream(FN))] == [kept.entry_id]
