"""fail.lua: a failed attempt, fenced; retry through the wheel with backoff, or dead-letter."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.keys import GROUP, Keys
from streamfn.rdb import RDB, Completion
from streamfn.settings import Settings
from tests.lua.helpers import (
    FN,
    Delivered,
    assert_pttl,
    deliver,
    enqueue_now,
    entries,
    listening,
    make_due,
    pending,
    record,
    redis_ms,
    run_one,
)

ERROR = {"type": "ValueError", "message": "boom"}
ERROR_JSON = '{"type":"ValueError","message":"boom"}'


def failure(d: Delivered, **policy: object) -> Completion:
    return Completion(FN, d.entry_id, d.invocation_id, 9, error=ERROR, **policy)  # type: ignore[arg-type]


async def redeliver(redis: Redis, keys: Keys, rdb: RDB, d: Delivered, consumer: str) -> Delivered:
    """Take a retry parked by fail.lua through promote and delivery again."""
    await make_due(redis, keys, [d.invocation_id])
    assert (await rdb.promote(FN, [d.invocation_id])).promoted == 1
    (again,) = await deliver(redis, keys, consumer)
    assert again.invocation_id == d.invocation_id
    return again


async def fail_and_measure(
    redis: Redis, keys: Keys, rdb: RDB, d: Delivered, **policy: object
) -> tuple[int, int, int]:
    """Fail ``d`` (it must be retried); returns (before, due, after) on the Redis clock."""
    before = await redis_ms(redis)
    assert await rdb.finish_many("r1", [failure(d, **policy)]) == ["scheduled"]
    after = await redis_ms(redis)
    due = await redis.zscore(keys.timers(FN), d.invocation_id)
    assert due is not None
    return before, int(due), after


async def test_retry_parks_the_next_attempt(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb)
    rec_before = await record(redis, keys, d.invocation_id)

    before, due, after = await fail_and_measure(
        redis, keys, rdb, d, max_attempts=3, backoff_base_ms=1000, jitter=0.0
    )

    assert before + 500 <= due <= after + 500
    rec = await record(redis, keys, d.invocation_id)
    expected = {k: v for k, v in rec_before.items() if k != "entry"}
    assert rec == {
        **expected,
        "status": "scheduled",
        "attempt": "2",
        "due": str(due),
        "error": ERROR_JSON,
        "duration_ms": "9",
    }
    assert await redis.xlen(keys.stream(FN)) == 0
    assert await pending(redis, keys.stream(FN)) == []
    assert await redis.pttl(keys.invocation(FN, d.invocation_id)) == -1
    assert not await redis.exists(keys.dead(FN))


@pytest.mark.parametrize(
    ("jitter", "base", "cap", "waits"),
    [
        (0.0, 1000, 3000, [500, 1000, 1500, 1500]),  # step/2: 1000, 2000, 3000 (cap), 3000
        (1.0, 1000, 3000, [1000, 2000, 3000, 3000]),  # the full step
        (0.5, 1001, 300_000, [750, 1501, 3003]),  # floor(step/2 + step/4)
    ],
)
async def test_backoff_doubles_with_equal_jitter_up_to_the_cap(
    redis: Redis, keys: Keys, rdb: RDB, jitter: float, base: int, cap: int, waits: list[int]
) -> None:
    policy = {
        "max_attempts": len(waits) + 1,
        "backoff_base_ms": base,
        "backoff_cap_ms": cap,
        "jitter": jitter,
    }
    d = await run_one(redis, keys, rdb)
    for attempt, wait in enumerate(waits, start=1):
        if attempt > 1:
            d = await redeliver(redis, keys, rdb, d, "r1")
        before, due, after = await fail_and_measure(redis, keys, rdb, d, **policy)
        assert before + wait <= due <= after + wait, (attempt, due - before, due - after)
        assert (await record(redis, keys, d.invocation_id))["attempt"] == str(attempt + 1)


async def test_last_attempt_is_dead_lettered(
    redis: Redis, keys: Keys, rdb: RDB, settings: Settings
) -> None:
    d = await run_one(redis, keys, rdb)
    policy = {"max_attempts": 2, "backoff_base_ms": 10}
    assert await rdb.finish_many("r1", [failure(d, **policy)]) == ["scheduled"]
    d = await redeliver(redis, keys, rdb, d, "r1")

    before = await redis_ms(redis)
    assert await rdb.finish_many("r1", [failure(d, **policy)]) == ["dead"]
    after = await redis_ms(redis)

    [(dead_entry, fields)] = await entries(redis, keys.dead(FN))
    assert before <= int(fields["at"]) <= after
    assert fields == {
        "id": d.invocation_id,
        "p": '{"n":1}',
        "error": ERROR_JSON,
        "attempts": "2",
        "at": fields["at"],
    }
    rec = await record(redis, keys, d.invocation_id)
    assert rec["status"] == "dead"
    assert rec["dead_entry"] == dead_entry
    assert rec["finished"] == fields["at"]
    assert rec["error"] == ERROR_JSON
    assert rec["attempt"] == "2"
    assert "entry" not in rec and "due" not in rec
    assert_pttl(
        await redis.pttl(keys.invocation(FN, d.invocation_id)), int(settings.dead_ttl * 1000)
    )
    assert await redis.zcard(keys.timers(FN)) == 0
    assert await redis.xlen(keys.stream(FN)) == 0
    assert await pending(redis, keys.stream(FN)) == []


async def test_mode_dead_dead_letters_on_the_first_attempt(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await run_one(redis, keys, rdb)
    assert await rdb.finish_many("r1", [failure(d, mode="dead", max_attempts=5)]) == ["dead"]
    [(_, fields)] = await entries(redis, keys.dead(FN))
    assert fields["attempts"] == "1"
    assert await redis.zcard(keys.timers(FN)) == 0


async def test_without_dead_letter_a_final_failure_is_failed(
    redis: Redis, keys: Keys, rdb: RDB, settings: Settings
) -> None:
    d = await run_one(redis, keys, rdb)
    out = await rdb.finish_many("r1", [failure(d, max_attempts=1, dead_letter=False)])
    assert out == ["failed"]
    rec = await record(redis, keys, d.invocation_id)
    assert rec["status"] == "failed"
    assert rec["error"] == ERROR_JSON
    assert "dead_entry" not in rec and "finished" in rec
    assert_pttl(
        await redis.pttl(keys.invocation(FN, d.invocation_id)), int(settings.result_ttl * 1000)
    )
    assert not await redis.exists(keys.dead(FN))
    assert await redis.xlen(keys.stream(FN)) == 0


async def test_wrong_consumer_is_stale_and_nothing_changes(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    await redis.xclaim(keys.stream(FN), GROUP, "r2", 0, [d.entry_id])
    rec_before = await record(redis, keys, d.invocation_id)

    assert await rdb.finish_many("r1", [failure(d, mode="dead")]) == ["stale"]

    assert await record(redis, keys, d.invocation_id) == rec_before
    assert await redis.xlen(keys.stream(FN)) == 1
    assert [p["consumer"] for p in await pending(redis, keys.stream(FN))] == ["r2"]
    assert not await redis.exists(keys.dead(FN))
    assert await redis.zcard(keys.timers(FN)) == 0


async def test_second_fail_is_stale(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb)
    assert await rdb.finish_many("r1", [failure(d, max_attempts=3)]) == ["scheduled"]
    rec = await record(redis, keys, d.invocation_id)
    assert await rdb.finish_many("r1", [failure(d, max_attempts=3)]) == ["stale"]
    assert await record(redis, keys, d.invocation_id) == rec


async def test_dead_stream_stays_near_its_cap(redis: Redis, keys: Keys, settings: Settings) -> None:
    cap, total = 10, 350
    rdb = RDB(redis, replace(settings, dead_maxlen=cap))
    await enqueue_now(rdb, total)
    delivered = await deliver(redis, keys, "r1", count=total)
    assert len(delivered) == total

    outcomes = await rdb.finish_many("r1", [failure(d, mode="dead") for d in delivered])

    assert outcomes == ["dead"] * total
    # MAXLEN ~ trims whole radix-tree nodes only, so up to one node's worth may remain.
    config: Any = await redis.config_get("stream-node-max-entries")
    node = int(config["stream-node-max-entries"])
    assert cap <= await redis.xlen(keys.dead(FN)) <= cap + node


async def test_publishes_final_outcomes_only_when_notify(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    [retried, dead, quiet, failed] = await enqueue_now(rdb, 4, notify=True)
    await redis.hset(keys.invocation(FN, quiet), "notify", "0")
    d = {x.invocation_id: x for x in await deliver(redis, keys, "r1", count=4)}

    async with listening(redis, keys.done_channel(FN)) as channel:
        items = [
            failure(d[retried], max_attempts=2),
            failure(d[dead], mode="dead"),
            failure(d[quiet], mode="dead"),
            failure(d[failed], max_attempts=1, dead_letter=False),
        ]
        assert await rdb.finish_many("r1", items) == ["scheduled", "dead", "dead", "failed"]
        assert await channel.drain() == [dead.encode(), failed.encode()]
