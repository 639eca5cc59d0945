"""promote.lua: move due timers into the stream, exactly once each, in bounded batches."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB
from tests.lua.helpers import FN, entries, make_due, record, redis_ms

HOUR = 3_600_000


async def park(rdb: RDB, count: int, delay_ms: int = HOUR) -> list[str]:
    ids = [new_invocation_id(FN) for _ in range(count)]
    for i in ids:
        assert (await rdb.enqueue(FN, i, b'{"t":1}', delay_ms=delay_ms)).status == "scheduled"
    return ids


async def test_only_due_ids_move(redis: Redis, keys: Keys, rdb: RDB) -> None:
    due = await park(rdb, 2)
    later = await park(rdb, 1)
    await make_due(redis, keys, due)
    later_at = int(await redis.zscore(keys.timers(FN), later[0]) or 0)

    before = await redis_ms(redis)
    out = await rdb.promote(FN, [*due, *later])
    after = await redis_ms(redis)

    assert (out.promoted, out.orphaned) == (2, 0)
    assert later_at - after <= out.next_in_ms <= later_at - before
    assert await redis.zrange(keys.timers(FN), 0, -1) == [later[0].encode()]
    stream = await entries(redis, keys.stream(FN))
    assert [f for _, f in stream] == [{"id": i, "p": '{"t":1}', "a": "1"} for i in due]
    for (entry_id, _), inv in zip(stream, due, strict=True):
        rec = await record(redis, keys, inv)
        assert rec["status"] == "queued"
        assert rec["entry"] == entry_id
        assert before <= int(rec["queued_at"]) <= after
        assert "due" not in rec
    assert (await record(redis, keys, later[0]))["status"] == "scheduled"


async def test_the_attempt_number_travels_with_the_entry(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    [inv] = await park(rdb, 1)
    await redis.hset(keys.invocation(FN, inv), "attempt", 3)
    await make_due(redis, keys, [inv])
    await rdb.promote(FN, [inv])
    [(_, fields)] = await entries(redis, keys.stream(FN))
    assert fields["a"] == "3"


async def test_concurrent_promoters_move_each_id_exactly_once(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    ids = [new_invocation_id(FN) for _ in range(500)]
    async with redis.pipeline(transaction=False) as pipe:
        for i in ids:
            record_fields = {"payload": "1", "attempt": 1, "status": "scheduled"}
            pipe.hset(keys.invocation(FN, i), mapping=record_fields)  # type: ignore[arg-type]
        pipe.zadd(keys.timers(FN), dict.fromkeys(ids, 1))
        await pipe.execute()

    results = await asyncio.gather(*(rdb.promote(FN, ids) for _ in range(20)))

    assert sum(r.promoted for r in results) == 500
    assert sum(r.orphaned for r in results) == 0
    assert all(r.next_in_ms == -1 for r in results)
    promoted = [f["id"] for _, f in await entries(redis, keys.stream(FN))]
    assert len(promoted) == 500
    assert sorted(promoted) == sorted(ids)
    assert await redis.zcard(keys.timers(FN)) == 0


async def test_orphan_is_counted_and_removed_from_the_wheel(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    gone, kept = await park(rdb, 2)
    await redis.delete(keys.invocation(FN, gone))
    await make_due(redis, keys, [gone, kept])

    out = await rdb.promote(FN, [gone, kept])

    assert (out.promoted, out.orphaned, out.next_in_ms) == (1, 1, -1)
    assert await redis.zcard(keys.timers(FN)) == 0
    assert [f["id"] for _, f in await entries(redis, keys.stream(FN))] == [kept]
    assert not await redis.exists(keys.invocation(FN, gone))  # no partial record created


async def test_record_no_longer_scheduled_is_not_promoted(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    [inv] = await park(rdb, 1)
    await redis.hset(keys.invocation(FN, inv), "status", "cancelled")
    await make_due(redis, keys, [inv])

    out = await rdb.promote(FN, [inv])

    assert (out.promoted, out.orphaned) == (0, 1)
    assert await redis.zcard(keys.timers(FN)) == 0
    assert not await redis.exists(keys.stream(FN))
    assert (await record(redis, keys, inv))["status"] == "cancelled"


async def test_next_in_is_minus_one_on_an_empty_wheel(rdb: RDB) -> None:
    out = await rdb.promote(FN, [])
    assert (out.promoted, out.orphaned, out.next_in_ms) == (0, 0, -1)


async def test_unknown_ids_are_ignored(redis: Redis, keys: Keys, rdb: RDB) -> None:
    out = await rdb.promote(FN, [new_invocation_id(FN)])
    assert (out.promoted, out.orphaned, out.next_in_ms) == (0, 0, -1)
    assert not await redis.exists(keys.stream(FN))


async def test_batch_is_bounded_by_the_ids_passed(redis: Redis, keys: Keys, rdb: RDB) -> None:
    ids = await park(rdb, 5)
    await make_due(redis, keys, ids)

    out = await rdb.promote(FN, ids[:2])

    assert (out.promoted, out.orphaned) == (2, 0)
    assert out.next_in_ms <= 0  # the rest are due already
    assert await redis.xlen(keys.stream(FN)) == 2
    assert await redis.zcard(keys.timers(FN)) == 3


async def test_promoting_twice_is_a_no_op(redis: Redis, keys: Keys, rdb: RDB) -> None:
    ids = await park(rdb, 3)
    await make_due(redis, keys, ids)
    first = await rdb.promote(FN, ids)
    again = await rdb.promote(FN, ids)
    assert (first.promoted, again.promoted, again.orphaned) == (3, 0, 0)
    assert await redis.xlen(keys.stream(FN)) == 3


async def test_promote_into_an_existing_stream_keeps_its_group(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    await rdb.enqueue(FN, new_invocation_id(FN), b"1")  # creates stream and group
    [inv] = await park(rdb, 1)
    await make_due(redis, keys, [inv])
    assert (await rdb.promote(FN, [inv])).promoted == 1
    [group] = await redis.xinfo_groups(keys.stream(FN))
    assert group["last-delivered-id"] == b"0-0"
