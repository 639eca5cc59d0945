"""On 3 masters, one function with ``PARTITIONS = 3`` spreads its commands within ±15%.

Cluster tier only (``make test-cluster``): the session's Redis is then a private 3-master
cluster.  A runner process drains 6,000 no-op invocations queued through the Python client,
which spreads them over the function's queues in turn; each master's share of the commands
run meanwhile (``INFO commandstats``, commands inside scripts included) is compared with the
mean.  ``PARTITIONS = 1`` puts the same work on one master: the contrast says the spread is
the partitions' doing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis, RedisCluster

from streamfn import partitions
from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.settings import Settings
from tests.conftest import CLUSTER_TIER
from tests.support.procs import start_runner, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CLUSTER_TIER, reason="needs the cluster tier's 3 masters"),
]

N = 6000
SOURCE = "PARTITIONS = {p}\n\nasync def handle(payload, ctx):\n    return None\n"


async def commands_per_master(cluster: RedisCluster) -> dict[str, int]:
    counts = {}
    for node in cluster.get_primaries():
        async with Redis(host=node.host, port=node.port) as plain:
            stats = await plain.info("commandstats")
        counts[f"{node.host}:{node.port}"] = sum(v["calls"] for v in stats.values())
    return counts


async def drain_and_count(
    settings: Settings, tmp_path: Path, redis: RedisCluster, p: int
) -> dict[str, float]:
    (settings.functions_dir / "hot.py").write_text(SOURCE.format(p=p))
    runner: Child = start_runner(settings, tmp_path, "--concurrency", "200")
    client = Client(redis, settings)
    keys = Keys.of(settings)
    try:

        async def loaded() -> bool:
            return (await client.refresh_partitions()).get("hot", 1) == p and bool(
                await redis.exists(keys.stream("hot"))
            )

        await wait_until(loaded, 15, what=f"hot loaded with {p} partitions")
        await asyncio.sleep(1.0)  # the runner's reads and loops settle
        before = await commands_per_master(redis)
        for _ in range(N // 500):
            await client.enqueue_many("hot", [None] * 500)

        async def drained() -> bool:
            lengths = [await redis.xlen(keys.stream(q)) for q in partitions.queues("hot", p)]
            return sum(lengths) == 0

        await wait_until(drained, 60, interval=0.2, what=f"{N} invocations drained")
        after = await commands_per_master(redis)
    finally:
        runner.stop()
    used = {node: after[node] - before[node] for node in after}
    total = sum(used.values())
    return {node: n / total for node, n in used.items()}


async def test_three_partitions_share_three_masters_within_15_percent(
    settings: Settings, tmp_path: Path, redis: RedisCluster
) -> None:
    assert isinstance(redis, RedisCluster)
    await redis.ping()  # the client learns the nodes at its first command
    assert len(redis.get_primaries()) == 3
    spread = await drain_and_count(settings, tmp_path, redis, 3)
    print("PARTITIONS = 3, share of commands per master:", spread)
    mean = 1 / 3
    for node, share in spread.items():
        assert abs(share - mean) <= 0.15 * mean, (node, spread)
    one = await drain_and_count(settings, tmp_path, redis, 1)
    print("PARTITIONS = 1, share of commands per master:", one)
    assert max(one.values()) > 0.6  # unpartitioned: the function's master does the work
