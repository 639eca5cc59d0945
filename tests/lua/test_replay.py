"""replay.lua: put a dead invocation back to work with a fresh attempt budget."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB, Completion
from tests.lua.helpers import FN, Delivered, entries, record, redis_ms, run_one


async def make_dead(redis: Redis, keys: Keys, rdb: RDB) -> Delivered:
    d = await run_one(redis, keys, rdb)
    await redis.hset(keys.invocation(FN, d.invocation_id), "attempt", 3)
    failure = Completion(FN, d.entry_id, d.invocation_id, 5, error={"type": "E"}, mode="dead")
    assert await rdb.finish_many("r1", [failure]) == ["dead"]
    return d


async def test_dead_goes_back_to_the_stream(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await make_dead(redis, keys, rdb)
    dead_before = await record(redis, keys, d.invocation_id)
    assert await redis.xlen(keys.dead(FN)) == 1

    before = await redis_ms(redis)
    ok, entry = await rdb.replay(d.invocation_id)
    after = await redis_ms(redis)

    assert ok
    assert await entries(redis, keys.stream(FN)) == [
        (entry, {"id": d.invocation_id, "p": '{"n":1}', "a": "1"})
    ]
    assert await redis.xlen(keys.dead(FN)) == 0
    rec = await record(redis, keys, d.invocation_id)
    assert before <= int(rec["replayed"]) <= after
    kept = {k: v for k, v in dead_before.items() if k not in {"dead_entry", "finished"}}
    assert rec == {
        **kept,
        "status": "queued",
        "entry": entry,
        "attempt": "1",
        "queued_at": rec["replayed"],
        "replayed": rec["replayed"],
    }
    assert await redis.pttl(keys.invocation(FN, d.invocation_id)) == -1


async def test_replay_works_when_the_dead_entry_was_trimmed(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await make_dead(redis, keys, rdb)
    await redis.xtrim(keys.dead(FN), maxlen=0)

    ok, entry = await rdb.replay(d.invocation_id)

    assert ok
    [(stream_entry, fields)] = await entries(redis, keys.stream(FN))
    assert (stream_entry, fields["id"], fields["p"]) == (entry, d.invocation_id, '{"n":1}')
    assert (await record(redis, keys, d.invocation_id))["status"] == "queued"


async def test_replay_keeps_other_dead_letters(redis: Redis, keys: Keys, rdb: RDB) -> None:
    first = await make_dead(redis, keys, rdb)
    second = await make_dead(redis, keys, rdb)
    assert (await rdb.replay(first.invocation_id))[0]
    [(_, fields)] = await entries(redis, keys.dead(FN))
    assert fields["id"] == second.invocation_id


async def test_replayed_entry_is_delivered_to_the_existing_group(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await make_dead(redis, keys, rdb)
    ok, entry = await rdb.replay(d.invocation_id)
    reply: Any = await redis.xreadgroup("runners", "r9", {keys.stream(FN): ">"}, count=5)
    assert ok and [e.decode() for e, _ in reply[0][1]] == [entry]


async def test_non_dead_is_refused(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb)
    rec_before = await record(redis, keys, d.invocation_id)
    assert await rdb.replay(d.invocation_id) == (False, "queued")
    assert await record(redis, keys, d.invocation_id) == rec_before
    assert await redis.xlen(keys.stream(FN)) == 1


async def test_unknown_is_not_found(redis: Redis, keys: Keys, rdb: RDB) -> None:
    inv = new_invocation_id(FN)
    assert await rdb.replay(inv) == (False, "not_found")
    assert not await redis.exists(keys.invocation(FN, inv), keys.stream(FN))
