"""The timekeeper: it promotes timers and fires schedules when they are due, woken by the due
time it read or by a script's announcement, never by polling each function; any number of
them move each timer once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn import partitions
from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.schedules import parse_definition
from streamfn.schedules.store import ScheduleStore
from streamfn.settings import Settings
from tests.support.procs import wait_until
from tests.timekeeping.conftest import StartTimekeeper, timekeeper

FN = "later"


async def promoted(client: Client, ids: list[str], timeout: float = 5.0) -> None:
    async def all_queued() -> bool:
        for i in ids:
            inv = await client.get(i)
            if inv is None or inv.status != "queued":
                return False
        return True

    await wait_until(all_queued, timeout, what=f"{len(ids)} timers to be promoted")


async def test_an_idle_timekeeper_wakes_for_a_new_delayed_invocation(
    start_timekeeper: StartTimekeeper, client: Client, redis: Redis, keys: Keys
) -> None:
    keeper = await start_timekeeper()  # reads every tag once, then sleeps (a minute at most)
    await wait_until(lambda: _true(keeper.reads >= len(keys.tags)), 5, what="the first read")
    scheduled = await client.enqueue(FN, {}, delay=0.3)
    assert scheduled.status == "scheduled"
    await promoted(client, [scheduled.id])
    assert await redis.xlen(keys.stream(FN)) == 1
    assert await redis.zcard(keys.timers(FN)) == 0
    assert await redis.zscore(keys.due_timers(keys.tag(FN)), FN) is None  # nothing left due


async def _true(value: bool) -> bool:
    return value


async def test_two_timekeepers_promote_each_of_250_timers_once(
    start_timekeeper: StartTimekeeper, client: Client, redis: Redis, keys: Keys
) -> None:
    n = 250  # five full batches
    ids = [(await client.enqueue(FN, {"i": i}, delay=0.3)).id for i in range(n)]
    keepers = [await start_timekeeper(), await start_timekeeper()]
    await promoted(client, ids)
    assert sum(k.promotion.promoted for k in keepers) == n
    rows: Any = await redis.xrange(keys.stream(FN))
    assert sorted(fields[b"id"].decode() for _, fields in rows) == sorted(ids)


async def test_timers_of_a_partition_queue_are_promoted_once_it_is_watched(
    start_timekeeper: StartTimekeeper, client: Client, redis: Redis, keys: Keys
) -> None:
    queue = partitions.queue_name(FN, 3, 2)
    assert keys.tag(queue) not in keys.tags  # a tag of its own, which no shard read covers
    client.set_partitions({FN: {"partitions": 3}})
    ids = [(await client.enqueue(FN, {"i": i}, delay=0.3)).id for i in range(6)]
    await start_timekeeper(watch=partitions.queues(FN, 3))
    await promoted(client, ids)
    assert await redis.xlen(keys.stream(queue)) == 2


async def test_timers_the_index_never_saw_are_found_when_their_queue_is_watched(
    start_timekeeper: StartTimekeeper, redis: Redis, keys: Keys, client: Client
) -> None:
    # What an older release wrote: a record and a timer, and nothing in the tag's index.
    inv = new_invocation_id(FN)
    now = await _redis_ms(redis)
    await redis.hset(
        keys.invocation(FN, inv),
        mapping={"payload": "1", "attempt": 1, "status": "scheduled", "due": now - 5},
    )
    await redis.zadd(keys.timers(FN), {inv: now - 5})
    await start_timekeeper(watch=[FN])
    await promoted(client, [inv])


async def _redis_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_an_index_entry_with_no_timer_behind_it_is_dropped(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    tag = keys.tag(FN)
    await redis.zadd(keys.due_timers(tag), {FN: 1000, "ghost": 2000})
    keeper = timekeeper(redis, settings, keys, max_sleep=60)
    for _ in range(3):
        await keeper.tick()
    assert await redis.zcard(keys.due_timers(tag)) == 0
    assert await keeper.tick() > 1  # nothing due: it sleeps (until its next full read)


async def test_an_idle_tick_reads_each_tag_once_and_sleeps_max_sleep(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    keeper = timekeeper(redis, settings, keys, max_sleep=30)
    keeper.watch([FN, *partitions.queues("hot", 4)])
    assert pytest.approx(await keeper.tick(), abs=1) == 30
    assert keeper.reads == len(keys.tags) + 3
    assert pytest.approx(await keeper.tick(), abs=1) == 30  # nothing due: no read at all
    assert keeper.reads == len(keys.tags) + 3


async def test_a_schedule_created_while_it_sleeps_fires_on_time(
    start_timekeeper: StartTimekeeper, store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    keeper = await start_timekeeper()
    await wait_until(lambda: _true(keeper.reads >= len(keys.tags)), 5, what="the first read")
    made, _ = await store.put(parse_definition({"function": FN, "every": "1s"}, schedule_id="tick"))
    assert made.next_fire_ms is not None

    async def fired_twice() -> bool:
        state = await store.get("tick")
        return state is not None and state.fire_count >= 2

    await wait_until(fired_twice, 10, what="two fires")
    assert await redis.xlen(keys.stream(FN)) >= 2
    index = keys.due_schedules(keys.tag(FN))
    before = await redis.zscore(index, FN)
    state = await store.get("tick")
    after = await redis.zscore(index, FN)  # a fire may land between the reads
    assert state is not None and state.next_fire_ms in {before, after}


async def test_a_stale_schedule_index_entry_is_set_right(
    store: ScheduleStore, redis: Redis, keys: Keys, settings: Settings
) -> None:
    await store.put(parse_definition({"function": FN, "cron": "@yearly"}, schedule_id="y"))
    state = await store.get("y")
    assert state is not None and state.next_fire_ms is not None
    index = keys.due_schedules(keys.tag(FN))
    await redis.zadd(index, {FN: 1000})  # as if an older release had fired it since
    keeper = timekeeper(redis, settings, keys, max_sleep=60)
    for _ in range(3):
        await keeper.tick()
    assert await redis.zscore(index, FN) == state.next_fire_ms
    assert await redis.exists(keys.stream(FN)) == 0  # and nothing fired


async def test_stop_ends_the_listener_and_the_loop(
    start_timekeeper: StartTimekeeper,
) -> None:
    keeper = await start_timekeeper()
    await asyncio.wait_for(keeper.stop(), 5)


async def test_a_due_schedule_that_cannot_be_planned_is_retried_not_spun_on(
    store: ScheduleStore, redis: Redis, keys: Keys, settings: Settings
) -> None:
    await store.put(parse_definition({"function": FN, "cron": "* * * * * *"}, schedule_id="bad"))
    await redis.hset(keys.schedule(FN, "bad"), "kind", "every")  # "* * * * * *" is no interval
    past = await _redis_ms(redis) - 500
    await redis.zadd(keys.schedules(FN), {"bad": past})  # due now, as its index says
    await redis.zadd(keys.due_schedules(keys.tag(FN)), {FN: past})
    keeper = timekeeper(redis, settings, keys, max_sleep=60)
    await keeper.clock.measure()
    delays = []
    for _ in range(4):
        delays.append(await keeper.tick())
        if delays[-1] > 0:
            break
    assert 0.01 < delays[-1] <= 1  # it waits a little before trying the broken one again
    assert await redis.exists(keys.stream(FN)) == 0
