"""discard.lua: delete a dead invocation, its dead letter and its record; nothing else."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB
from tests.lua.helpers import FN, run_one
from tests.lua.test_replay import make_dead


async def test_a_dead_invocation_goes_with_its_dead_letter(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await make_dead(redis, keys, rdb)
    other = await make_dead(redis, keys, rdb)
    assert await redis.xlen(keys.dead(FN)) == 2

    assert await rdb.discard(d.invocation_id) == (True, "dead")

    assert await redis.exists(keys.invocation(FN, d.invocation_id)) == 0
    [(_, fields)] = await redis.xrange(keys.dead(FN))
    assert fields[b"id"].decode() == other.invocation_id  # the other letter stays
    assert await rdb.discard(d.invocation_id) == (False, "not_found")


async def test_a_trimmed_dead_letter_still_discards_its_record(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await make_dead(redis, keys, rdb)
    await redis.xtrim(keys.dead(FN), maxlen=0)
    assert await rdb.discard(d.invocation_id) == (True, "dead")
    assert await redis.exists(keys.invocation(FN, d.invocation_id)) == 0


async def test_an_invocation_that_is_not_dead_is_left_as_it_is(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    delivered = await run_one(redis, keys, rdb)  # its record says queued until it starts
    key = keys.invocation(FN, delivered.invocation_id)
    before = await redis.hgetall(key)
    assert await rdb.discard(delivered.invocation_id) == (False, "queued")
    assert await redis.hgetall(key) == before
    assert await rdb.discard(new_invocation_id(FN)) == (False, "not_found")
