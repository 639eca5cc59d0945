"""POST /invoke with STREAMFN_DURABLE_REPLICAS on a Redis Cluster (3 masters, a replica each):
202 once the enqueue's master's replica confirms; with that replica paused (SIGSTOP by pid),
503 replication_unconfirmed for that master's functions only, and after SIGCONT the same
Idempotency-Key replays the first invocation (no duplicate)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.launch.cluster import PrivateCluster
from streamfn.settings import Settings
from tests.gateway.conftest import make_known, serving
from tests.support.cluster_nodes import function_on, masters, paused, until_replicas_stream


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    with PrivateCluster(masters=3, replicas=1) as started:
        yield started


@pytest.fixture
async def durable(settings: Settings, cluster: PrivateCluster) -> AsyncIterator[Settings]:
    on = replace(
        settings,
        redis_url=cluster.url,
        redis_cluster="on",
        namespace="g" + uuid.uuid4().hex[:8],
        durable_replicas=1,
        durable_timeout_ms=300,
    )
    redis = make_redis(on)
    try:
        await until_replicas_stream(redis, cluster)
    finally:
        await redis.aclose()
    yield on


async def test_503_only_for_the_master_whose_replica_is_paused(
    durable: Settings, cluster: PrivateCluster
) -> None:
    keys = Keys(durable.namespace)
    slow, fast = masters(cluster)[:2]
    victim, bystander = function_on(cluster, keys, slow), function_on(cluster, keys, fast)
    redis = make_redis(durable)
    try:
        await make_known(redis, keys, victim, bystander)
        headers = {"Idempotency-Key": "order-7"}
        async with serving(durable) as client:
            assert (await client.post(f"/invoke/{victim}", json=1)).status == 202
            (replica,) = cluster.replicas_of(slow)
            with paused(replica):
                refused, accepted = await asyncio.gather(
                    client.post(f"/invoke/{victim}", json=2, headers=headers),
                    client.post(f"/invoke/{bystander}", json=2),
                )
                assert accepted.status == 202
                assert refused.status == 503
                assert refused.headers["Retry-After"] == "1"
                error = (await refused.json())["error"]
                assert error["code"] == "replication_unconfirmed"
                assert "Idempotency-Key" in error["message"]
            cluster.wait_ok()
            again = await client.post(f"/invoke/{victim}", json=2, headers=headers)
            assert again.status == 202
            assert again.headers["Idempotent-Replayed"] == "true"  # written once, confirmed now
        assert await redis.xlen(keys.stream(victim)) == 2  # the first 202 and order-7, once
    finally:
        await redis.aclose()
