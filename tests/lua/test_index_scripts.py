"""The invocation index as each state-changing script keeps it (``ix:*`` keys).

Every test seeds through the real scripts, then reads the index keys directly: the status
zset, the tag/schedule zset, the expiry zset, the counts and per-minute hashes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB, Completion
from streamfn.scripts import run
from streamfn.scripts.index_calls import index_range, index_trim
from streamfn.settings import Settings
from streamfn.tags import TagError
from tests.lua.helpers import FN, deliver, enqueue_now, make_due, redis_ms, run_one, success
from tests.support.procs import wait_until


async def members(redis: Redis, key: str) -> set[str]:
    raw: Any = await redis.zrange(key, 0, -1)
    return {m.decode() for m in raw}


async def counts(redis: Redis, keys: Keys) -> dict[str, int]:
    raw: Any = await redis.hgetall(keys.index_counts(FN))
    return {k.decode(): int(v) for k, v in raw.items() if int(v)}


async def test_enqueue_indexes_live_tags_and_schedule(redis: Redis, keys: Keys, rdb: RDB) -> None:
    plain = new_invocation_id(FN)
    tagged = new_invocation_id(FN)
    await rdb.enqueue(FN, plain, b"1")
    await rdb.enqueue(
        FN, tagged, b"1", delay_ms=60_000, tags=["blue", "a.b-c"], extra={"schedule": "nightly"}
    )

    assert await members(redis, keys.index_status(FN)) == {f"live:{plain}", f"live:{tagged}"}
    assert await members(redis, keys.index_by(FN)) == {
        f"t:blue:{tagged}",
        f"t:a.b-c:{tagged}",
        f"s:nightly:{tagged}",
    }
    assert (await redis.hget(keys.invocation(FN, tagged), "tags")) == b"blue,a.b-c"


async def test_bad_tags_are_refused_before_anything_is_written(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    inv = new_invocation_id(FN)
    for bad in (["a:b"], ["x" * 33], [f"t{i}" for i in range(9)], ["-a"]):
        with pytest.raises(TagError):
            await rdb.enqueue(FN, inv, b"1", tags=bad)
    assert not await redis.exists(keys.invocation(FN, inv), keys.index_status(FN))


async def test_an_idempotent_repeat_indexes_nothing(redis: Redis, keys: Keys, rdb: RDB) -> None:
    first = new_invocation_id(FN)
    await rdb.enqueue(FN, first, b"1", idempotency_key="k", tags=["x"])
    await rdb.enqueue(FN, new_invocation_id(FN), b"1", idempotency_key="k", tags=["y"])
    assert await members(redis, keys.index_status(FN)) == {f"live:{first}"}
    assert await members(redis, keys.index_by(FN)) == {f"t:x:{first}"}


async def test_complete_moves_live_to_succeeded_with_expiry_count_and_minute(
    redis: Redis, keys: Keys, rdb: RDB, settings: Settings
) -> None:
    a = await run_one(redis, keys, rdb)
    b = await run_one(redis, keys, rdb)
    before = await redis_ms(redis)
    assert await rdb.finish_many("r1", [success(a), success(b)])
    after = await redis_ms(redis)

    assert await members(redis, keys.index_status(FN)) == {
        f"succeeded:{a.invocation_id}",
        f"succeeded:{b.invocation_id}",
    }
    assert await counts(redis, keys) == {"succeeded": 2}
    ttl = int(settings.result_ttl * 1000)
    raw: Any = await redis.zrange(keys.index_expiry(FN), 0, -1, withscores=True)
    ((member, score),) = raw  # one entry for the batch: its records expire together
    assert member.decode() == f"succeeded|{a.invocation_id}::|{b.invocation_id}::"
    assert before + ttl <= score <= after + ttl
    minutes: Any = await redis.hgetall(keys.index_minutes(FN))
    counted = {int(k): int(v) for k, v in minutes.items() if k.isdigit()}
    assert sum(counted.values()) == 2
    assert set(counted) <= {before // 60_000, after // 60_000}


async def test_a_stale_completion_changes_no_index_entry(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    a = await run_one(redis, keys, rdb, consumer="r1")
    assert await rdb.finish_many("r2", [success(a)])  # not r2's: stale
    assert await members(redis, keys.index_status(FN)) == {f"live:{a.invocation_id}"}
    assert await counts(redis, keys) == {}


def failure(d: Any, mode: str, dead: bool = True) -> Completion:
    return Completion(
        FN,
        d.entry_id,
        d.invocation_id,
        3,
        error={"type": "E"},
        mode=mode,
        dead_letter=dead,
        max_attempts=2,
    )


async def test_fail_retry_stays_live_and_counts_a_failed_attempt(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    a = await run_one(redis, keys, rdb)
    await rdb.finish_many("r1", [failure(a, "retry")])
    assert await members(redis, keys.index_status(FN)) == {f"live:{a.invocation_id}"}
    minutes: Any = await redis.hgetall(keys.index_minutes(FN))
    assert sum(int(v) for k, v in minutes.items() if k.endswith(b":f")) == 1


async def test_final_failures_go_to_failed_or_dead_and_replay_brings_dead_back(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    a = await run_one(redis, keys, rdb)
    b = await run_one(redis, keys, rdb)
    await rdb.finish_many("r1", [failure(a, "dead", dead=False), failure(b, "dead")])
    assert await members(redis, keys.index_status(FN)) == {
        f"failed:{a.invocation_id}",
        f"dead:{b.invocation_id}",
    }
    assert await counts(redis, keys) == {"failed": 1, "dead": 1}

    assert (await rdb.replay(b.invocation_id))[0]
    assert await members(redis, keys.index_status(FN)) == {
        f"failed:{a.invocation_id}",
        f"live:{b.invocation_id}",
    }
    assert await counts(redis, keys) == {"failed": 1}
    expiring = await members(redis, keys.index_expiry(FN))
    assert expiring == {f"failed|{a.invocation_id}::"}


async def test_cancel_and_cancel_done_index_cancelled(redis: Redis, keys: Keys, rdb: RDB) -> None:
    (waiting,) = await enqueue_now(rdb)
    assert (await rdb.cancel(waiting))[0]
    running = await run_one(redis, keys, rdb)
    assert (await rdb.cancel_running(running.invocation_id))[0]
    stop = Completion(
        FN, running.entry_id, running.invocation_id, 1, error={"type": "C"}, mode="cancel"
    )
    await rdb.finish_many("r1", [stop])
    assert await members(redis, keys.index_status(FN)) == {
        f"cancelled:{waiting}",
        f"cancelled:{running.invocation_id}",
    }
    assert await counts(redis, keys) == {"cancelled": 2}


async def test_promote_release_and_reclaim_keep_an_invocation_live(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    later = new_invocation_id(FN)
    await rdb.enqueue(FN, later, b"1", delay_ms=60_000)
    await make_due(redis, keys, [later])
    await rdb.promote(FN, [later])
    (got,) = await deliver(redis, keys, "r1")
    await rdb.release(FN, "r1", got.entry_id, got.invocation_id)
    await rdb.reclaim(FN, "r2", 0)
    assert await members(redis, keys.index_status(FN)) == {f"live:{later}"}


async def test_expired_entries_are_trimmed_everywhere_and_counted_out(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    short = RDB(redis, replace(settings, result_ttl=0.05))
    tagged = new_invocation_id(FN)
    await short.enqueue(FN, tagged, b"1", tags=["blue"], extra={"schedule": "s1"})
    (a,) = await deliver(redis, keys, "r1")
    await short.finish_many("r1", [success(a)])
    assert await counts(redis, keys) == {"succeeded": 1}

    async def gone() -> bool:
        return not await redis.exists(keys.invocation(FN, tagged))

    await wait_until(gone, 5, what="the record's TTL")
    # The record expired a moment ago; the entry goes once Redis time is past its expiry.
    replies: list[Any] = []

    async def trimmed() -> bool:
        replies.append(await run(redis, index_trim(keys, FN, 10)))
        return bool(replies[-1][0])

    await wait_until(trimmed, 5, what="the trim")
    assert replies[-1] == [1, 0]
    for key in (keys.index_status(FN), keys.index_by(FN), keys.index_expiry(FN)):
        assert not await redis.exists(key), key
    assert await counts(redis, keys) == {}


async def test_index_range_merges_prefixes_newest_first_within_bounds(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    ids = sorted(await enqueue_now(rdb, 6))
    finished = await deliver(redis, keys, "r1", count=3)
    await rdb.finish_many("r1", [success(d) for d in finished])
    zset = keys.index_status(FN)

    async def read(count: int, below: str = "", since: str = "") -> list[str]:
        flat = await run(redis, index_range(zset, ["live:", "succeeded:"], count, below, since))
        return [flat[i].decode() for i in range(0, len(flat), 2)]

    assert await read(10) == ids[::-1]
    assert await read(2) == ids[::-1][:2]
    assert await read(10, below=ids[3]) == ids[:3][::-1]
    assert await read(10, below=ids[4], since=ids[1]) == ids[1:4][::-1]


async def test_an_idle_queues_index_expires_whole_once_its_records_have(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    short = RDB(redis, replace(settings, result_ttl=0.3))
    await short.enqueue(FN, new_invocation_id(FN), b"1", tags=["t"])
    (a,) = await deliver(redis, keys, "r1")
    index_keys = [keys.index_status(FN), keys.index_by(FN), keys.index_expiry(FN)]
    index_keys.append(keys.index_counts(FN))
    assert (await short.enqueue(FN, new_invocation_id(FN), b"1")).created
    await short.finish_many("r1", [success(a)])
    for key in index_keys:  # one invocation is still live: nothing expires
        assert await redis.pttl(key) == -1, key

    (b,) = await deliver(redis, keys, "r1")
    await short.finish_many("r1", [success(b)])  # none live now
    for key in index_keys:
        assert 0 < await redis.pttl(key) <= 300 + 1000, key

    async def gone() -> bool:  # no read, no write: the keys expire by themselves
        return not await redis.exists(*index_keys)

    await wait_until(gone, 10, what="the index keys to expire")
    again = new_invocation_id(FN)
    await short.enqueue(FN, again, b"1")
    assert await members(redis, keys.index_status(FN)) == {f"live:{again}"}


async def test_a_new_live_record_takes_the_ttl_off_the_index(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    rdb = RDB(redis, replace(settings, result_ttl=60))
    a = await run_one(redis, keys, rdb)
    await rdb.finish_many("r1", [success(a)])
    assert await redis.pttl(keys.index_counts(FN)) > 0
    later = new_invocation_id(FN)
    await rdb.enqueue(FN, later, b"1", delay_ms=60_000)
    for key in (keys.index_status(FN), keys.index_expiry(FN), keys.index_counts(FN)):
        assert await redis.pttl(key) == -1, key


async def test_discard_takes_a_dead_invocation_out_of_the_index(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    from streamfn.scripts.invocation_calls import discard

    inv = new_invocation_id(FN)
    await rdb.enqueue(FN, inv, b"1", tags=["t"])
    (a,) = await deliver(redis, keys, "r1")
    await rdb.finish_many("r1", [failure(a, "dead")])
    assert await counts(redis, keys) == {"dead": 1}
    assert (await run(redis, discard(keys, FN, inv)))[0] == 1
    assert await members(redis, keys.index_status(FN)) == set()
    assert await members(redis, keys.index_by(FN)) == set()
    assert await members(redis, keys.index_expiry(FN)) == set()
    assert await counts(redis, keys) == {}
