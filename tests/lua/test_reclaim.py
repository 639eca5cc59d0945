"""reclaim.lua: XAUTOCLAIM idle entries with their fields and delivery counts."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.rdb import RDB
from tests.lua.helpers import FN, deliver, enqueue_now, pending, set_idle

IDLE = 10_000


async def test_idle_entries_are_claimed_with_fields_and_counts(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    [inv] = await enqueue_now(rdb)
    [d] = await deliver(redis, keys, "dead-runner")
    await set_idle(redis, keys.stream(FN), "dead-runner", d.entry_id, IDLE + 1)

    out = await rdb.reclaim(FN, "r2", IDLE)

    assert (out.cursor, out.deleted) == ("0-0", [])
    [c] = out.claimed
    assert (c.entry_id, c.deliveries) == (d.entry_id, 2)
    assert c.fields == {b"id": inv.encode(), b"p": b'{"n":1}', b"a": b"1"}
    [row] = await pending(redis, keys.stream(FN))
    assert (row["consumer"], row["deliveries"]) == ("r2", 2)
    assert row["idle"] < IDLE

    # Claimed again after the new owner went silent too: the count keeps rising.
    await set_idle(redis, keys.stream(FN), "r2", d.entry_id, IDLE + 1)
    [again] = (await rdb.reclaim(FN, "r3", IDLE)).claimed
    assert again.deliveries == 3


async def test_entries_below_min_idle_stay(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await enqueue_now(rdb, 2)
    fresh, old = await deliver(redis, keys, "r1", count=2)
    await set_idle(redis, keys.stream(FN), "r1", old.entry_id, IDLE + 1)

    out = await rdb.reclaim(FN, "r2", IDLE)

    assert [c.entry_id for c in out.claimed] == [old.entry_id]
    owners = {
        p["entry"]: (p["consumer"], p["deliveries"]) for p in await pending(redis, keys.stream(FN))
    }
    assert owners == {fresh.entry_id: ("r1", 1), old.entry_id: ("r2", 2)}


async def test_cursor_walks_past_count(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await enqueue_now(rdb, 5)
    delivered = await deliver(redis, keys, "r1", count=5)
    for d in delivered:
        await set_idle(redis, keys.stream(FN), "r1", d.entry_id, IDLE + 1)

    cursor, claimed, sweeps = "0-0", [], 0
    while True:
        out = await rdb.reclaim(FN, "r2", IDLE, cursor, count=2)
        assert len(out.claimed) <= 2
        claimed += [c.entry_id for c in out.claimed]
        cursor, sweeps = out.cursor, sweeps + 1
        if cursor == "0-0" or sweeps > 10:
            break

    assert cursor == "0-0"
    assert sweeps == 3
    assert claimed == [d.entry_id for d in delivered]
    assert {p["consumer"] for p in await pending(redis, keys.stream(FN))} == {"r2"}


async def test_deleted_pending_entries_are_reported_and_dropped(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    await enqueue_now(rdb, 2)
    gone, kept = await deliver(redis, keys, "r1", count=2)
    for d in (gone, kept):
        await set_idle(redis, keys.stream(FN), "r1", d.entry_id, IDLE + 1)
    await redis.xdel(keys.stream(FN), gone.entry_id)

    out = await rdb.reclaim(FN, "r2", IDLE)

    assert out.deleted == [gone.entry_id]
    assert [c.entry_id for c in out.claimed] == [kept.entry_id]
    assert [p["entry"] for p in await pending(redis, keys.stream(FN))] == [kept.entry_id]


async def test_nothing_pending_claims_nothing(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await enqueue_now(rdb)  # queued, never delivered: not in the PEL
    out = await rdb.reclaim(FN, "r2", 0)
    assert (out.cursor, out.claimed, out.deleted) == ("0-0", [], [])
