"""lua/schedule_fire.lua: compare-and-set, exactly once under concurrency, never early."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from streamfn.keys import Keys
from streamfn.schedules.definition import fire_invocation_id, parse_definition
from streamfn.schedules.ops import MAX_SCHEDULES_PER_CALL, FireCall, FireResult, ScheduleRDB
from streamfn.schedules.store import ScheduleStore
from streamfn.scripts import schedule_calls
from tests.schedules.helpers import hash_of, redis_ms

FN = "echo"


@dataclass(frozen=True)
class Due:
    """A schedule (every second) whose next fire was 5 s ago, and the Redis time then."""

    sid: str
    at: int
    now: int
    rev: str

    def step(
        self, fires: tuple[int, ...], nxt: int | None, *, at: int | None = None, **kw: Any
    ) -> FireCall:
        call = FireCall(FN, self.sid, self.at if at is None else at, self.rev, self.now, fires, nxt)
        return replace(call, **kw)


async def due_schedule(store: ScheduleStore, sid: str = "s", **body: Any) -> Due:
    spec = {"function": FN, "cron": "* * * * * *", "payload": {"n": 1}, **body}
    made, _ = await store.put(parse_definition(spec, schedule_id=sid))
    now = await redis_ms(store.redis)
    at = (now // 1000 - 5) * 1000
    await store.redis.zadd(store.keys.schedules(FN), {sid: at})
    await store.redis.hset(store.keys.schedule(FN, sid), "next_fire", at)
    return Due(sid, at, now, made.rev)


async def fire(rdb: ScheduleRDB, call: FireCall) -> FireResult:
    (result,) = await rdb.fire_many([call])
    assert isinstance(result, FireResult), result
    return result


async def test_a_fire_is_an_ordinary_invocation_tagged_with_its_schedule(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    d = await due_schedule(store)
    result = await fire(store.rdb, d.step((d.at,), d.at + 1000))
    assert result.ok and result.fired == (d.at,) and result.now_ms >= d.now
    assert result.fire_count == 1
    inv = fire_invocation_id(FN, "s", d.at)
    record = await hash_of(redis, keys.invocation(FN, inv))
    assert record.pop("entry").count("-") == 1
    assert int(record.pop("created")) == int(record.pop("queued_at")) == result.now_ms
    assert record == {
        "payload": '{"n":1}',
        "attempt": "1",
        "notify": "0",
        "status": "queued",
        "x_schedule": "s",
        "x_planned": str(d.at),
    }
    (entry,) = await redis.xrange(keys.stream(FN))
    expected = {b"id": inv.encode(), b"p": b'{"n":1}', b"a": b"1", b"pl": str(d.at).encode()}
    assert entry[1] == expected
    groups = await redis.xinfo_groups(keys.stream(FN))
    assert [g["name"] for g in groups] == [b"runners"]
    state = await hash_of(redis, keys.schedule(FN, "s"))
    assert (state["fire_count"], state["last_fire"], state["last_invocation"]) == (
        "1",
        str(d.at),
        inv,
    )
    assert state["next_fire"] == str(d.at + 1000)
    assert await redis.zscore(keys.schedules(FN), "s") == d.at + 1000


async def test_fires_enter_the_invocation_index_under_their_schedule(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    d = await due_schedule(store, misfire="catch_up", catch_up_max=3)
    planned = (d.at, d.at + 1000)
    await fire(store.rdb, d.step(planned, d.at + 2000))
    ids = [fire_invocation_id(FN, "s", at) for at in planned]
    status = {m.decode() for m in await redis.zrange(keys.index_status(FN), 0, -1)}
    by = {m.decode() for m in await redis.zrange(keys.index_by(FN), 0, -1)}
    assert status == {f"live:{i}" for i in ids}
    assert by == {f"s:s:{i}" for i in ids}


async def test_twenty_concurrent_callers_fire_each_planned_time_once(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    d = await due_schedule(store, misfire="catch_up", catch_up_max=5)
    planned = tuple(d.at + i * 1000 for i in range(5))
    call = d.step(planned, d.at + 5000)
    results = await asyncio.gather(*(fire(ScheduleRDB(redis, keys), call) for _ in range(20)))
    assert sorted(r.ok for r in results) == [False] * 19 + [True]
    assert {r.reason for r in results if not r.ok} == {"moved"}
    assert await redis.xlen(keys.stream(FN)) == 5
    records = [k async for k in redis.scan_iter(match=keys.invocation(FN, "*"))]
    assert len(records) == 5
    assert (await hash_of(redis, keys.schedule(FN, "s")))["fire_count"] == "5"


async def test_never_early_by_redis_time(store: ScheduleStore, redis: Redis, keys: Keys) -> None:
    d = await due_schedule(store, "f")
    future = (d.now // 1000 + 30) * 1000
    await redis.zadd(keys.schedules(FN), {"f": future})
    # Not due by Redis TIME: refused whatever the caller believes the time is.
    result = await fire(store.rdb, d.step((future,), future + 1000, at=future, plan_now_ms=future))
    assert (result.ok, result.reason) == (False, "early")
    # A plan made "at" a time Redis has not reached yet is refused too.
    g = await due_schedule(store, "g")
    result = await fire(store.rdb, g.step((g.at,), g.at + 1000, plan_now_ms=g.now + 60_000))
    assert (result.ok, result.reason) == (False, "early")
    # A planned time after the plan's own clock is refused.
    result = await fire(store.rdb, g.step((g.now + 5000,), g.now + 6000))
    assert (result.ok, result.reason) == (False, "order")
    assert await redis.exists(keys.stream(FN)) == 0


async def test_a_replayed_or_reordered_plan_cannot_fire_twice(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    d = await due_schedule(store)
    call = d.step((d.at,), d.at + 1000)
    assert (await fire(store.rdb, call)).ok
    assert (await fire(store.rdb, call)).reason == "moved"  # the same call again
    # Even with the score forced back, a time at or before the last fire is refused.
    await redis.zadd(keys.schedules(FN), {"s": d.at})
    assert (await fire(store.rdb, call)).reason == "order"
    unordered = d.step((d.at + 2000, d.at + 1000), d.at + 3000)
    assert (await fire(store.rdb, unordered)).reason == "order"
    stuck = d.step((d.at + 1000,), d.at + 1000)
    assert (await fire(store.rdb, stuck)).reason == "order"  # next not after the fires
    assert await redis.xlen(keys.stream(FN)) == 1


async def test_an_existing_record_is_consumed_but_never_rewritten(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    d = await due_schedule(store)
    assert (await fire(store.rdb, d.step((d.at,), d.at + 1000))).ok
    # Delete and recreate the schedule: its history is gone, the invocation is not.
    await store.delete("s")
    again = await due_schedule(store)
    assert again.rev != d.rev  # a recreated schedule never reuses a revision
    await redis.zadd(keys.schedules(FN), {"s": d.at})
    result = await fire(store.rdb, again.step((d.at,), again.at + 1000, at=d.at))
    assert result.ok and result.fired == ()
    assert await redis.xlen(keys.stream(FN)) == 1


async def test_refusals_write_nothing(store: ScheduleStore, redis: Redis, keys: Keys) -> None:
    d = await due_schedule(store, limit=2)
    assert (await fire(store.rdb, d.step((d.at,), d.at + 1000, rev="old"))).reason == "rev"
    three = d.step((d.at, d.at + 1000, d.at + 2000), None)
    assert (await fire(store.rdb, three)).reason == "limit"
    moved = d.step((d.at,), d.at + 1000, at=d.at - 1000)
    assert (await fire(store.rdb, moved)).reason == "moved"
    assert await redis.exists(keys.stream(FN)) == 0
    assert (await hash_of(redis, keys.schedule(FN, "s")))["fire_count"] == "0"


async def test_finishing_and_a_stray_entry(store: ScheduleStore, redis: Redis, keys: Keys) -> None:
    d = await due_schedule(store)
    assert (await fire(store.rdb, d.step((d.at,), None))).ok
    assert await redis.zscore(keys.schedules(FN), "s") == float("inf")
    done = await store.get("s")
    assert done is not None and done.state == "finished"
    await redis.zadd(keys.schedules(FN), {"stray": d.at})
    result = await fire(store.rdb, replace(d.step((), d.at + 1000), schedule_id="stray"))
    assert result.reason == "missing"
    assert await redis.zscore(keys.schedules(FN), "stray") is None


async def test_many_schedules_in_one_call_are_decided_one_by_one(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    many = [await due_schedule(store, f"s{i}") for i in range(MAX_SCHEDULES_PER_CALL + 20)]
    steps = [d.step((d.at,), d.at + 1000) for d in many]
    steps[3] = replace(steps[3], rev="old")  # one refusal must not affect its neighbours
    results = await store.rdb.fire_many(steps)
    assert all(isinstance(r, FireResult) for r in results)
    reasons = [r.reason if isinstance(r, FireResult) else "error" for r in results]
    assert reasons == [""] * 3 + ["rev"] + [""] * (len(many) - 4)
    assert await redis.xlen(keys.stream(FN)) == len(many) - 1


@pytest.mark.parametrize("fn", ["echo", "a", "report_2"])
def test_every_script_call_uses_one_hash_slot(keys: Keys, redis: Redis, fn: str) -> None:
    rdb = ScheduleRDB(redis, keys)
    steps = [
        FireCall(fn, sid, 1, "r", 1, (1000, 2000), 3000) for sid in ("some.id", "other", "x-1")
    ]
    _, fire_keys, _ = rdb._fire_call(fn, steps)
    _, pair, _ = schedule_calls.schedule_delete(keys, fn, "x")  # every other schedule script's
    slots = {key_slot(k.encode()) for k in [*fire_keys, *pair]}
    assert slots == {key_slot(keys.stream(fn).encode())}
