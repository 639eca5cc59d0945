"""POST /invoke with STREAMFN_DURABLE_REPLICAS: 202 once replicas confirm; 503
replication_unconfirmed (Retry-After) when they do not, and the same Idempotency-Key then
replays the first invocation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.launch import PrivateRedis
from streamfn.settings import Settings
from tests.gateway.conftest import make_known, serving
from tests.support.replicas import master_with_replica, wait_replicas


@pytest.fixture
def pair() -> Iterator[tuple[PrivateRedis, PrivateRedis]]:
    with master_with_replica() as servers:
        yield servers


@pytest.fixture
async def durable(
    settings: Settings, pair: tuple[PrivateRedis, PrivateRedis]
) -> AsyncIterator[Settings]:
    on = replace(settings, redis_url=pair[0].url, durable_replicas=1, durable_timeout_ms=300)
    redis: Redis = make_redis(on)
    try:
        await make_known(redis, Keys(on.namespace), "echo")
    finally:
        await redis.aclose()
    yield on


async def test_202_once_the_replica_confirms_503_when_it_is_gone(
    durable: Settings, pair: tuple[PrivateRedis, PrivateRedis]
) -> None:
    master, replica = pair
    headers = {"Idempotency-Key": "order-7"}
    async with serving(durable) as client:
        assert (await client.post("/invoke/echo", json=1)).status == 202
        replica.stop()
        refused = await client.post("/invoke/echo", json=2, headers=headers)
        assert refused.status == 503
        assert refused.headers["Retry-After"] == "1"
        error = (await refused.json())["error"]
        assert error["code"] == "replication_unconfirmed"
        assert "Idempotency-Key" in error["message"]
        waited = await client.post("/invoke/echo?wait=1", json=3)
        assert waited.status == 503
        assert (await waited.json())["error"]["code"] == "replication_unconfirmed"
        replica.start()
        wait_replicas(master, 1)
        again = await client.post("/invoke/echo", json=2, headers=headers)
        assert again.status == 202
        assert again.headers["Idempotent-Replayed"] == "true"  # written once, confirmed now
