"""ScriptBatcher: concurrent callers share a round trip, each gets its own reply or error."""

from __future__ import annotations

import asyncio
import os

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from streamfn.batching import MAX_BATCH, ScriptBatcher
from streamfn.keys import Keys
from streamfn.launch import free_port
from streamfn.scripts import SCRIPTS, Call
from streamfn.scripts.invocation_calls import enqueue


def enqueue_call(keys: Keys, inv: str) -> Call:
    return enqueue(keys, "fn", inv, b"1")


async def test_concurrent_calls_each_get_their_reply(redis: Redis, keys: Keys) -> None:
    batcher = ScriptBatcher(redis, SCRIPTS.enqueue)
    ids = [f"fn.{i:024x}" for i in range(MAX_BATCH + 50)]
    replies = await asyncio.gather(*(batcher.call(enqueue_call(keys, i)) for i in ids))
    assert [r[1].decode() for r in replies] == ids
    assert await redis.xlen(keys.stream("fn")) == len(ids)


async def test_one_callers_error_does_not_touch_the_others(redis: Redis, keys: Keys) -> None:
    batcher = ScriptBatcher(redis, SCRIPTS.enqueue)
    dup = "fn." + "a" * 24
    await batcher.call(enqueue_call(keys, dup))
    results = await asyncio.gather(
        batcher.call(enqueue_call(keys, "fn." + "b" * 24)),
        batcher.call(enqueue_call(keys, dup)),
        batcher.call(enqueue_call(keys, "fn." + "c" * 24)),
        return_exceptions=True,
    )
    assert isinstance(results[1], ResponseError) and "invocation exists" in str(results[1])
    assert results[0][2] == b"queued" and results[2][2] == b"queued"


async def test_connection_error_reaches_every_caller(keys: Keys) -> None:
    dead = Redis(port=free_port(), socket_connect_timeout=0.5)
    batcher = ScriptBatcher(dead, SCRIPTS.enqueue)
    results = await asyncio.gather(
        *(batcher.call(enqueue_call(keys, f"fn.{i:024x}")) for i in range(3)),
        return_exceptions=True,
    )
    assert all(isinstance(r, RedisConnectionError) for r in results), results
    await dead.aclose()


async def test_script_flush_is_survived(redis: Redis, keys: Keys, redis_url: str) -> None:
    if os.environ.get("STREAMFN_TEST_REDIS_URL"):
        pytest.skip("never SCRIPT FLUSH a server we did not start")
    await redis.script_flush()
    batcher = ScriptBatcher(redis, SCRIPTS.enqueue)
    reply = await batcher.call(enqueue_call(keys, "fn." + "d" * 24))
    assert reply[2] == b"queued"
