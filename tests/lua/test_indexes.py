"""The per-tag indexes the scripts keep: ``due_timers`` (queue -> earliest timer),
``due_schedules`` (function -> earliest next fire) and ``active`` (queues whose stream holds
entries), exact after every script, and the wake channel told whenever a tag's due time moves
earlier (and only then)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from streamfn import partitions
from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB, Completion
from streamfn.schedules import parse_definition
from streamfn.schedules.store import ScheduleStore
from streamfn.scripts import run
from streamfn.scripts.index_calls import reindex
from tests.lua.helpers import FN, deliver, enqueue_now, listening, make_due, success


def tag(keys: Keys, queue: str = FN) -> str:
    return keys.tag(queue)


async def earliest(redis: Redis, keys: Keys, queue: str = FN) -> float | None:
    score: Any = await redis.zscore(keys.due_timers(tag(keys, queue)), queue)
    return score


async def active(redis: Redis, keys: Keys, queue: str = FN) -> bool:
    return bool(await redis.sismember(keys.active(tag(keys, queue)), queue))


async def test_delayed_enqueues_keep_the_earliest_and_announce_only_a_new_earliest(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    assert await earliest(redis, keys) is None  # (a cluster client learns its slots here)
    async with listening(redis, keys.wake_channel(tag(keys))) as wake:
        later = await rdb.enqueue(FN, new_invocation_id(FN), b"1", delay_ms=60_000)
        assert later.due_ms is not None and await earliest(redis, keys) == later.due_ms
        await rdb.enqueue(FN, new_invocation_id(FN), b"1", delay_ms=120_000)  # not earlier
        sooner = await rdb.enqueue(FN, new_invocation_id(FN), b"1", delay_ms=30_000)
        assert sooner.due_ms is not None and await earliest(redis, keys) == sooner.due_ms
        # Another queue of the tag with a later timer: its own entry, but not the tag's
        # earliest, so no announcement.
        other = next(f"f{i}" for i in range(1000) if tag(keys, f"f{i}") == tag(keys))
        await rdb.enqueue(other, new_invocation_id(other), b"1", delay_ms=90_000)
        assert await earliest(redis, keys, other) is not None
        assert await wake.drain() == [str(later.due_ms).encode(), str(sooner.due_ms).encode()]
    assert not await active(redis, keys)  # timers are not in the stream


async def test_promote_and_cancel_leave_the_earliest_timer_left_or_none(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    a, b, c = (new_invocation_id(FN) for _ in range(3))
    for inv, delay in ((a, 10_000), (b, 20_000), (c, 30_000)):
        await rdb.enqueue(FN, inv, b"1", delay_ms=delay)
    await make_due(redis, keys, [a])
    assert (await rdb.promote(FN, [a])).promoted == 1
    assert await earliest(redis, keys) == await redis.zscore(keys.timers(FN), b)
    assert await active(redis, keys)  # a is in the stream now
    assert await rdb.cancel(b) == (True, "cancelled")
    assert await earliest(redis, keys) == await redis.zscore(keys.timers(FN), c)
    assert await rdb.cancel(c) == (True, "cancelled")
    assert await earliest(redis, keys) is None


async def test_the_stream_is_active_from_its_first_entry_to_its_last_one_finished(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    assert not await active(redis, keys)
    first, second, third = await enqueue_now(rdb, 3)
    assert await active(redis, keys)
    assert await rdb.cancel(third) == (True, "cancelled")  # a queued one leaves: others stay
    assert await active(redis, keys)
    done, failing = await deliver(redis, keys, "r1", count=2)
    dead = Completion(FN, failing.entry_id, failing.invocation_id, 1, error={"type": "E"})
    dead.mode = "dead"
    assert await rdb.finish_many("r1", [success(done)]) == ["succeeded"]
    assert await active(redis, keys)
    assert await rdb.finish_many("r1", [dead]) == ["dead"]
    assert not await active(redis, keys)
    assert (await rdb.replay(failing.invocation_id))[0]
    assert await active(redis, keys)
    (again,) = await deliver(redis, keys, "r1")
    await rdb.cancel_running(again.invocation_id)
    stop = Completion(FN, again.entry_id, again.invocation_id, 1, error={"type": "C"})
    stop.mode = "cancel"
    assert await rdb.finish_many("r1", [stop]) == ["cancelled"]
    assert not await active(redis, keys)
    assert first and second


async def test_a_retry_lowers_the_timer_index_and_announces_it(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    (inv,) = await enqueue_now(rdb)
    (got,) = await deliver(redis, keys, "r1")
    retry = Completion(FN, got.entry_id, got.invocation_id, 1, error={"type": "E"}, max_attempts=3)
    async with listening(redis, keys.wake_channel(tag(keys))) as wake:
        assert await rdb.finish_many("r1", [retry]) == ["scheduled"]
        due = await redis.zscore(keys.timers(FN), inv)
        assert due is not None and await earliest(redis, keys) == due
        assert await wake.drain() == [str(int(due)).encode()]
    assert not await active(redis, keys)


async def test_schedules_keep_the_functions_earliest_finite_next_fire(
    redis: Redis, keys: Keys
) -> None:
    store = ScheduleStore(redis, keys)
    index = keys.due_schedules(tag(keys))
    assert await redis.zscore(index, FN) is None  # (a cluster client learns its slots here)
    async with listening(redis, keys.wake_channel(tag(keys))) as wake:
        yearly, _ = await store.put(
            parse_definition({"function": FN, "cron": "@yearly"}, schedule_id="y")
        )
        assert await redis.zscore(index, FN) == yearly.next_fire_ms
        often, _ = await store.put(
            parse_definition({"function": FN, "every": "1h"}, schedule_id="h")
        )
        assert await redis.zscore(index, FN) == often.next_fire_ms
        await store.pause("h")
        assert await redis.zscore(index, FN) == yearly.next_fire_ms  # raised: no announcement
        resumed = await store.resume("h")
        assert resumed is not None and await redis.zscore(index, FN) == resumed.next_fire_ms
        await store.pause("h")
        await store.delete("y")
        assert await redis.zscore(index, FN) is None  # only a paused one is left: never due
        told = await wake.drain()
    assert told == [str(s).encode() for s in (yearly.next_fire_ms, often.next_fire_ms)] + [
        str(resumed.next_fire_ms).encode()
    ]


async def test_reindex_enters_keys_the_scripts_never_indexed(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    queue = partitions.queue_name(FN, 3, 1)
    await redis.zadd(keys.timers(queue), {"x": 5000, "y": 7000})
    await redis.xadd(keys.stream(queue), {"id": "z"})
    await redis.zadd(keys.schedules(FN), {"s": 9000, "paused": float("inf")})
    async with listening(redis, keys.wake_channel(tag(keys, queue))) as wake:
        assert await run(redis, reindex(keys, queue)) == [5000, 1, -1]
        assert await run(redis, reindex(keys, queue)) == [5000, 1, -1]  # unchanged: no news
        assert await wake.drain() == [b"5000"]
    assert await earliest(redis, keys, queue) == 5000 and await active(redis, keys, queue)
    assert await run(redis, reindex(keys, FN)) == [-1, 0, 9000]
    assert await redis.zscore(keys.due_schedules(tag(keys)), FN) == 9000
    await redis.delete(keys.stream(queue))
    await redis.delete(keys.timers(queue))
    await rdb.reindex([queue])
    assert await earliest(redis, keys, queue) is None and not await active(redis, keys, queue)
