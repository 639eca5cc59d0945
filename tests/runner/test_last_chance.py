"""Last chances: an entry on its final allowed delivery is claimed alone (R10 end to end)."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import GROUP, Keys
from streamfn.rdb import RDB
from streamfn.runner.jobs import DONE, Job
from streamfn.runner.last_chance import Idle, LastChances, plan
from streamfn.settings import Settings


def rows(*deliveries: int) -> list[Idle]:
    return [Idle(f"1-{i}", d) for i, d in enumerate(deliveries)]


def test_entries_with_deliveries_to_spare_are_claimed_in_bulk_up_to_the_free_slots() -> None:
    assert plan(rows(1, 1, 1), free=10, max_deliveries=3, busy=False) == ("1-0", 3)
    assert plan(rows(1, 1, 1), free=2, max_deliveries=3, busy=False) == ("1-0", 2)
    assert plan([], free=10, max_deliveries=3, busy=False) == ("", 0)


def test_a_bulk_claim_stops_before_a_last_chance() -> None:
    assert plan(rows(1, 1, 2, 1), free=10, max_deliveries=3, busy=False) == ("1-0", 2)


def test_a_last_chance_is_claimed_alone_and_only_while_none_runs() -> None:
    assert plan(rows(2, 1, 1), free=10, max_deliveries=3, busy=False) == ("1-0", 1)
    # One already runs here: skip the leading last chances, claim what follows them.
    assert plan(rows(2, 2, 1, 1, 2), free=10, max_deliveries=3, busy=True) == ("1-2", 2)
    assert plan(rows(2, 2), free=10, max_deliveries=3, busy=True) == ("", 0)


def test_entries_past_the_limit_go_in_bulk_since_they_will_not_run() -> None:
    assert plan(rows(3, 4, 1), free=10, max_deliveries=3, busy=False) == ("1-0", 3)
    # max 1: every reclaimed entry is past the limit, none is a last chance.
    assert plan(rows(1, 1), free=10, max_deliveries=1, busy=False) == ("1-0", 2)


async def test_next_claim_reads_idle_entries_and_their_delivery_counts(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    stream = keys.stream("work")
    await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    ids = [(await redis.xadd(stream, {"id": f"work.{i}"})).decode() for i in range(5)]
    await redis.xreadgroup(GROUP, "dead-runner", {stream: ">"}, count=5)
    # Delivery counts 1, 1, 2, 1 and idle 10 s; the fifth entry was delivered just now.
    for entry, times in zip(ids[:4], (1, 1, 2, 1), strict=True):
        await redis.xclaim(
            stream, GROUP, "dead-runner", 0, [entry], idle=10_000, retrycount=times, justid=True
        )
    chances = LastChances(RDB(redis, settings), min_idle_ms=5_000, max_deliveries=3)

    assert await chances.next_claim("work", "0-0", free=10) == (ids[0], 2)
    assert await chances.next_claim("work", ids[2], free=10) == (ids[2], 1)
    job = Job("work", ids[2], True)
    chances.started(job, deliveries=3)
    assert chances.busy
    assert await chances.next_claim("work", ids[2], free=10) == (ids[3], 1)
    job.state = DONE
    assert not chances.busy
