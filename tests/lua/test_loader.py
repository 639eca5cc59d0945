"""The script loader: EVALSHA keeps working after the server forgets its scripts."""

from __future__ import annotations

import os

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from streamfn.keys import Keys
from streamfn.rdb import RDB
from streamfn.scripts import SCRIPTS, run, run_batch
from streamfn.scripts.invocation_calls import watch
from tests.lua.helpers import FN, enqueue_now

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("STREAMFN_TEST_REDIS_URL")),
    reason="SCRIPT FLUSH would touch a shared server; runs only on our private one",
)


async def test_run_reloads_after_script_flush(redis: Redis, keys: Keys, rdb: RDB) -> None:
    [inv] = await enqueue_now(rdb)
    await redis.script_flush()
    assert await redis.script_exists(SCRIPTS.watch.sha) == [False]

    status = await run(redis, watch(keys, FN, inv))

    assert status == b"queued"
    assert await redis.script_exists(SCRIPTS.watch.sha) == [True]


async def test_run_batch_reloads_after_script_flush(redis: Redis, keys: Keys, rdb: RDB) -> None:
    ids = await enqueue_now(rdb, 3)
    not_a_hash = keys.timers(FN)
    await redis.set(not_a_hash, "x")
    await redis.script_flush()

    calls = [watch(keys, FN, i) for i in ids]
    calls.append((SCRIPTS.watch, [not_a_hash], []))  # a call no encoder builds
    results = await run_batch(redis, calls)

    assert results[:3] == [b"queued"] * 3
    # Other errors come back in place, as values, and do not hide the others' results.
    assert isinstance(results[3], ResponseError) and "WRONGTYPE" in str(results[3])
    assert [await redis.hget(keys.invocation(FN, i), "notify") for i in ids] == [b"1"] * 3
    assert await run_batch(redis, []) == []


async def test_every_wrapper_survives_a_flush(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await redis.script_flush()
    [inv] = await enqueue_now(rdb)
    await redis.script_flush()
    assert await rdb.cancel(inv) == (True, "cancelled")
    await redis.script_flush()
    assert (await rdb.promote(FN, [])).next_in_ms == -1
