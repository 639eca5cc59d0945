"""Schedule fires: real time with three timekeepers, misfire policies after an outage, and
what a firing round does with paused, edited, finished and broken schedules."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.schedules.definition import parse_definition
from streamfn.schedules.due import Fired
from streamfn.schedules.store import ScheduleStore
from streamfn.timekeeping.clock import RedisClock
from streamfn.timekeeping.schedule_fires import ScheduleFirer
from tests.schedules.helpers import hash_of, redis_ms
from tests.support.procs import wait_until
from tests.timekeeping.conftest import StartTimekeeper

FN = "echo"


def firer(redis: Redis, keys: Keys, **kwargs: Any) -> ScheduleFirer:
    """A firer with a clock of its own, not measured: its first read is unbounded."""
    return ScheduleFirer(redis, keys, RedisClock(redis), **kwargs)


async def fires_of(redis: Redis, keys: Keys, sid: str) -> list[dict[str, str]]:
    records = [
        await hash_of(redis, k.decode())
        async for k in redis.scan_iter(match=keys.invocation(FN, "*"), count=1000)
    ]
    return [r for r in records if r.get("x_schedule") == sid]


async def redis_time_reaches(redis: Redis, at_ms: int, timeout: float) -> None:
    async def reached() -> bool:
        return await redis_ms(redis) >= at_ms

    await wait_until(reached, timeout, interval=0.01, what=f"Redis time {at_ms}")


@pytest.mark.timeout(30)
async def test_three_timekeepers_fire_every_second_once_and_never_early(
    store: ScheduleStore, redis: Redis, keys: Keys, start_timekeeper: StartTimekeeper
) -> None:
    keepers = [await start_timekeeper() for _ in range(3)]
    seen: list[Fired] = []
    for keeper in keepers:
        keeper.firer.on_fire = seen.append
    made, _ = await store.put(
        parse_definition({"function": FN, "cron": "* * * * * *"}, schedule_id="tick")
    )
    assert made.next_fire_ms is not None
    first = made.next_fire_ms
    await redis_time_reaches(redis, first + 4000 + 300, timeout=10)  # five planned seconds
    for keeper in keepers:
        await keeper.stop()

    fires = await fires_of(redis, keys, "tick")
    planned = sorted(int(f["x_planned"]) for f in fires)
    assert 4 <= len(planned) <= 6, planned
    assert len(set(planned)) == len(planned)  # no duplicates
    assert planned == list(range(first, planned[-1] + 1, 1000))  # none missed
    assert all(int(f["queued_at"]) >= int(f["x_planned"]) for f in fires)  # none early
    assert await redis.xlen(keys.stream(FN)) == len(fires)
    assert sorted(f.planned_ms for f in seen) == planned
    assert sum(keeper.firer.fired for keeper in keepers) == len(planned)
    assert all(0 <= f.lateness < 0.5 for f in seen), [f.lateness for f in seen]
    state = await store.get("tick")
    assert state is not None and state.fire_count == len(planned)


@pytest.mark.parametrize(("policy", "missed"), [("skip", 0), ("fire_once", 1), ("catch_up", 5)])
async def test_after_a_30_s_outage_the_policy_decides(
    store: ScheduleStore, redis: Redis, keys: Keys, policy: str, missed: int
) -> None:
    body: dict[str, Any] = {"function": FN, "cron": "* * * * * *", "misfire": policy}
    if policy == "catch_up":
        body["catch_up_max"] = 5
    await store.put(parse_definition(body, schedule_id="p"))
    now = await redis_ms(redis)
    gap_start = (now // 1000 - 30) * 1000  # as if every scheduler had been down for 30 s
    await redis.zadd(keys.schedules(FN), {"p": gap_start})
    await redis.hset(keys.schedule(FN, "p"), "next_fire", gap_start)
    scheduler = firer(redis, keys)
    await scheduler.round([FN])

    fires = await fires_of(redis, keys, "p")
    late = [int(f["x_planned"]) for f in fires if int(f["queued_at"]) - int(f["x_planned"]) > 1000]
    assert len(late) == missed
    on_time = len(fires) - len(late)
    assert 1 <= on_time <= 2  # the current second (and the one before, within the grace)
    state = await store.get("p")
    assert state is not None and state.next_fire_ms is not None
    assert state.next_fire_ms > max(int(f["x_planned"]) for f in fires)
    # A second round right away fires nothing more.
    await scheduler.round([FN])
    assert len(await fires_of(redis, keys, "p")) == len(fires)


async def test_paused_and_future_schedules_do_not_fire(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    await store.put(parse_definition({"function": FN, "cron": "* * * * * *"}, schedule_id="a"))
    await store.pause("a")
    await store.put(parse_definition({"function": FN, "cron": "@yearly"}, schedule_id="b"))
    scan = await firer(redis, keys).round([FN])
    assert scan.due == [] and not scan.again
    assert await redis.exists(keys.stream(FN)) == 0
    # Only the yearly one is in the tag's index; the paused one is not due ever.
    assert await redis.zscore(keys.due_schedules(keys.tag(FN)), FN) == (
        await redis.zscore(keys.schedules(FN), "b")
    )
    assert (await firer(redis, keys).round([])).due == []


@pytest.mark.parametrize("measured", [False, True])
async def test_a_round_sees_the_next_due_schedule(
    store: ScheduleStore, redis: Redis, keys: Keys, measured: bool
) -> None:
    await store.put(parse_definition({"function": FN, "cron": "@yearly"}, schedule_id="y"))
    soon = await redis_ms(redis) + 20
    await redis.zadd(keys.schedules(FN), {"y": soon})
    await redis.hset(keys.schedule(FN, "y"), "next_fire", soon)
    scheduler = firer(redis, keys)
    if measured:  # the horizon by the clock's estimate, not unbounded
        await scheduler.clock.measure()
    scan = await scheduler.round([FN])
    assert scan.due == [] and scan.soonest == soon
    assert 0 < soon - scan.now_ms <= 20


async def test_a_stray_zset_entry_is_dropped(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    await redis.zadd(keys.schedules(FN), {"ghost": 1000})
    await firer(redis, keys).round([FN])
    assert await redis.zscore(keys.schedules(FN), "ghost") is None


async def make_due(redis: Redis, keys: Keys, sid: str, at: int) -> None:
    await redis.zadd(keys.schedules(FN), {sid: at})
    await redis.hset(keys.schedule(FN, sid), "next_fire", at)


async def test_an_edit_is_seen_by_a_scheduler_that_cached_the_old_definition(
    store: ScheduleStore, redis: Redis, keys: Keys
) -> None:
    body: dict[str, Any] = {"function": FN, "cron": "* * * * * *", "payload": "old"}
    await store.put(parse_definition(body, schedule_id="e"))
    scheduler = firer(redis, keys)
    second = (await redis_ms(redis)) // 1000 * 1000
    await make_due(redis, keys, "e", second - 3000)
    await scheduler.round([FN])  # caches the definition
    edited, _ = await store.put(parse_definition({**body, "payload": "new"}, schedule_id="e"))
    assert edited.next_fire_ms is not None
    await redis_time_reaches(redis, edited.next_fire_ms, timeout=5)
    for _ in range(2):  # the first try is refused ("rev") and re-reads the definition
        await scheduler.round([FN])
    fired = {int(f["x_planned"]): f["payload"] for f in await fires_of(redis, keys, "e")}
    assert fired[edited.next_fire_ms] == '"new"'
    assert [p for at, p in fired.items() if at < edited.next_fire_ms] == ['"old"'] * (
        len(fired) - 1
    )


async def test_limit_finishes_a_schedule(store: ScheduleStore, redis: Redis, keys: Keys) -> None:
    body = {"function": FN, "cron": "* * * * * *", "misfire": "catch_up", "limit": 2}
    await store.put(parse_definition(body, schedule_id="l"))
    await make_due(redis, keys, "l", (await redis_ms(redis)) // 1000 * 1000 - 10_000)
    await firer(redis, keys).round([FN])
    assert len(await fires_of(redis, keys, "l")) == 2
    state = await store.get("l")
    assert state is not None and (state.state, state.fire_count) == ("finished", 2)


async def test_an_unreadable_schedule_does_not_stop_the_others(
    store: ScheduleStore, redis: Redis, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    for sid in ("bad", "good"):
        body = {"function": FN, "cron": "* * * * * *"}
        await store.put(parse_definition(body, schedule_id=sid))
        await make_due(redis, keys, sid, (await redis_ms(redis)) // 1000 * 1000)
    await redis.hset(keys.schedule(FN, "bad"), "kind", "every")  # "* * * * * *" is no interval
    scheduler = firer(redis, keys)
    await scheduler.round([FN])
    await scheduler.round([FN])
    assert len(await fires_of(redis, keys, "good")) == 1
    assert await fires_of(redis, keys, "bad") == []
    errors = [r for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(errors) == 1  # said once, not every round
