"""Durable acknowledgement: one WAIT per coalesced batch, on the batch's own connection;
too few replicas turn every reply of the batch into ReplicationUnconfirmed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.durable import Durability
from streamfn.errors import ReplicationUnconfirmed
from streamfn.launch import PrivateRedis
from streamfn.settings import Settings
from tests.support.replicas import master_with_replica

TIMEOUT_MS = 300


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[PrivateRedis, PrivateRedis]]:
    with master_with_replica() as servers:
        yield servers


def _on(settings: Settings, master: PrivateRedis, replicas: int) -> Settings:
    return replace(
        settings,
        redis_url=master.url,
        durable_replicas=replicas,
        durable_timeout_ms=TIMEOUT_MS,
    )


@pytest.fixture
async def clients() -> AsyncIterator[list[Redis]]:
    made: list[Redis] = []
    yield made
    for client in made:
        await client.aclose()


async def _client(settings: Settings, made: list[Redis]) -> Client:
    redis = make_redis(settings)
    made.append(redis)
    return Client(redis, settings)


async def _wait_calls(redis: Redis) -> int:
    stats: Any = await redis.info("commandstats")
    return int(stats.get("cmdstat_wait", {}).get("calls", 0))


def test_off_by_default(settings: Settings) -> None:
    assert Durability.of(settings) is None
    assert Durability.of(replace(settings, durable_replicas=2)) == Durability(2, 1000)


async def test_one_replica_confirms_and_one_wait_covers_a_whole_batch(
    settings: Settings, pair: tuple[PrivateRedis, PrivateRedis], clients: list[Redis]
) -> None:
    client = await _client(_on(settings, pair[0], 1), clients)
    await client.enqueue("echo", {"warm": 1})  # loads the script (a NOSCRIPT adds a round trip)
    before = await _wait_calls(client.redis)
    done = await asyncio.gather(*(client.enqueue("echo", i) for i in range(50)))
    assert all(e.created for e in done)
    assert await _wait_calls(client.redis) - before == 1
    ids = await client.enqueue_many("echo", range(20))
    assert len(ids) == 20
    assert await _wait_calls(client.redis) - before == 2


async def test_more_replicas_than_exist_is_unconfirmed_within_the_timeout(
    settings: Settings, pair: tuple[PrivateRedis, PrivateRedis], clients: list[Redis]
) -> None:
    client = await _client(_on(settings, pair[0], 2), clients)
    began = time.monotonic()
    outcomes = await asyncio.gather(
        *(client.enqueue("echo", i) for i in range(10)), return_exceptions=True
    )
    elapsed = time.monotonic() - began
    assert all(isinstance(o, ReplicationUnconfirmed) for o in outcomes), outcomes
    error = outcomes[0]
    assert isinstance(error, ReplicationUnconfirmed)
    assert (error.acked, error.required) == (1, 2)
    assert "Idempotency-Key" in error.message
    assert TIMEOUT_MS / 1000 <= elapsed < TIMEOUT_MS / 1000 + 2.0
    with pytest.raises(ReplicationUnconfirmed):
        await client.enqueue_many("echo", [1, 2])


async def test_a_retry_with_the_same_key_is_safe(
    settings: Settings, pair: tuple[PrivateRedis, PrivateRedis], clients: list[Redis]
) -> None:
    strict = await _client(_on(settings, pair[0], 2), clients)
    with pytest.raises(ReplicationUnconfirmed):
        await strict.enqueue("echo", {"n": 1}, idempotency_key="k-1")
    relaxed = await _client(_on(settings, pair[0], 1), clients)
    again = await relaxed.enqueue("echo", {"n": 1}, idempotency_key="k-1")
    assert not again.created  # the first write reached the master: queued once, confirmed now


def test_errors_keep_their_own_reply_and_a_refused_wait_confirms_nothing() -> None:
    durability = Durability(1, 10)
    failure = ValueError("bad call")
    assert durability.confirm([1, failure], [1]) == [1, failure]
    unconfirmed = durability.confirm([1, failure], [0])
    assert isinstance(unconfirmed[0], ReplicationUnconfirmed) and unconfirmed[1] is failure
    refused = durability.confirm([1], [Exception("ERR WAIT cannot be used with replicas")])
    assert isinstance(refused[0], ReplicationUnconfirmed)
