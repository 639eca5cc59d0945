"""Schedule CRUD against real Redis: create, upsert, read, list, move, delete, pause, resume."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.schedules.definition import ScheduleDef, parse_definition
from streamfn.schedules.store import ScheduleStore
from tests.schedules.helpers import hash_of, redis_ms


def define(**body: Any) -> ScheduleDef:
    return parse_definition({"function": "echo", "cron": "0 0 1 1 *", **body})


async def test_create_read_and_show(store: ScheduleStore, redis: Redis) -> None:
    before = await redis_ms(redis)
    made, status = await store.put(define(id="nightly", payload={"a": 1}))
    assert status == "created"
    got = await store.get("nightly")
    assert got == made and got is not None
    assert (got.state, got.fire_count, got.last_fire_ms) == ("active", 0, None)
    assert len(got.rev) == 16
    assert got.next_fire_ms is not None and got.next_fire_ms > before
    shown = got.to_json()
    assert shown["id"] == "nightly" and shown["cron"] == "0 0 1 1 *"
    assert shown["payload"] == {"a": 1} and shown["next_fire_at"] == got.next_fire_ms
    assert shown["next_fire_local"].endswith("T00:00:00+00:00")
    assert shown["misfire"] == "fire_once" and shown["source"] == "api"
    assert await store.get("nope") is None


async def test_upsert_is_unchanged_for_the_same_body_and_updates_otherwise(
    store: ScheduleStore,
) -> None:
    first, _ = await store.put(define(id="s1"))
    again, status = await store.put(define(id="s1"))
    assert status == "unchanged" and again == first
    changed, status = await store.put(define(id="s1", cron="*/5 * * * * *", payload=2))
    assert status == "updated" and changed.rev != first.rev
    assert (
        changed.definition.spec.expr == "*/5 * * * * *" and changed.created_ms == first.created_ms
    )
    assert changed.next_fire_ms is not None and changed.next_fire_ms % 5000 == 0


async def test_list_all_and_by_function(store: ScheduleStore) -> None:
    await store.put(define(id="b"))
    await store.put(define(id="a"))
    await store.put(parse_definition({"id": "c", "function": "other", "every": "1m"}))
    assert [s.id for s in await store.list_schedules()] == ["a", "b", "c"]
    assert [s.id for s in await store.list_schedules("echo")] == ["a", "b"]
    assert [s.id for s in await store.list_schedules("nobody")] == []
    assert await store.functions() == {"echo", "other"}


async def test_put_can_move_a_schedule_to_another_function(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    await store.put(define(id="mv"))
    moved, status = await store.put(
        parse_definition({"id": "mv", "function": "other", "every": "1m"})
    )
    assert status == "created" and moved.function == "other"
    assert await redis.exists(keys.schedule("echo", "mv")) == 0
    assert await redis.zscore(keys.schedules("echo"), "mv") is None
    assert [s.id for s in await store.list_schedules()] == ["mv"]


async def test_delete(store: ScheduleStore, redis: Redis, keys: Keys) -> None:
    await store.put(define(id="gone"))
    assert await store.delete("gone") is True
    assert await store.get("gone") is None
    assert await store.delete("gone") is False
    assert await redis.exists(keys.schedule("echo", "gone"), keys.schedules("echo")) == 0
    assert await redis.hget(keys.schedule_index, "gone") is None


async def test_a_stale_index_entry_is_cleaned_by_a_lookup(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    await redis.hset(keys.schedule_index, "ghost", "echo")
    assert await store.get("ghost") is None
    assert await redis.hget(keys.schedule_index, "ghost") is None


async def test_pause_and_resume(store: ScheduleStore, redis: Redis, keys: Keys) -> None:
    await store.put(define(id="p", cron="* * * * * *"))
    paused = await store.pause("p")
    assert paused is not None and paused.state == "paused" and paused.next_fire_ms is None
    assert await redis.zscore(keys.schedules("echo"), "p") == float("inf")
    assert [s.id for s in await store.list_schedules("echo")] == ["p"]  # still listed
    # A PUT keeps a paused schedule paused.
    kept, status = await store.put(define(id="p", cron="*/2 * * * * *"))
    assert status == "updated" and kept.paused
    before = await redis_ms(redis)
    resumed = await store.resume("p")
    assert resumed is not None and resumed.state == "active"
    assert resumed.next_fire_ms is not None and resumed.next_fire_ms > before
    assert resumed.next_fire_ms % 2000 == 0
    assert await redis.zscore(keys.schedules("echo"), "p") == resumed.next_fire_ms
    again = await store.resume("p")  # not paused: nothing changes
    assert again == resumed
    assert await store.pause("nope") is None and await store.resume("nope") is None


async def test_resume_skips_what_was_missed_while_paused(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    await store.put(define(id="r", cron="* * * * * *", misfire="catch_up", catch_up_max=50))
    await store.pause("r")
    # Pretend the schedule last fired a minute ago.
    await redis.hset(keys.schedule("echo", "r"), "last_fire", await redis_ms(redis) - 60_000)
    now = await redis_ms(redis)
    resumed = await store.resume("r")
    assert resumed is not None and resumed.next_fire_ms is not None
    assert now < resumed.next_fire_ms <= now + 2000


async def test_update_never_moves_next_fire_to_or_before_the_last_fire(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    await store.put(define(id="l", cron="* * * * * *"))
    key = keys.schedule("echo", "l")
    future_last = (await redis_ms(redis) // 1000 + 10) * 1000
    await redis.hset(key, "last_fire", future_last)  # as if a fire 10 s ahead had happened
    updated, _ = await store.put(define(id="l", cron="* * * * * *", payload=1))
    assert updated.next_fire_ms is not None and updated.next_fire_ms > future_last
    # The script itself refuses a stale next fire, whatever the caller computed.
    status, last = await store.rdb.upsert(define(id="l", cron="* * * * * *", payload=2), 5)
    assert (status, last) == ("stale", str(future_last))
    assert (await hash_of(redis, key))["payload"] == "1"


async def test_finished_schedule_is_kept_with_no_next_fire(
    store: ScheduleStore, redis: Redis
) -> None:
    past = await redis_ms(redis) - 60_000
    done, _ = await store.put(define(id="f", cron="* * * * * *", start_at=past - 5000, end_at=past))
    assert done.state == "finished" and done.next_fire_ms is None
    assert done.to_json()["next_fire_at"] is None
