"""``bench.nodes`` and the namespace drop on a private 3-master cluster: each master is read on
its own, a key's master is the one that serves its slot, and dropping a namespace deletes its
keys on every master and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from bench.nodes import Reading, commands_between, master_of, masters, read_masters
from bench.observe import drop_namespace
from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import Keys
from streamfn.launch.cluster import PrivateCluster
from streamfn.settings import DEFAULTS


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    with PrivateCluster(masters=3) as c:
        yield c


@pytest.fixture
async def client(cluster: PrivateCluster) -> AsyncIterator[AnyRedis]:
    r = make_redis(replace(DEFAULTS, redis_url=cluster.url, redis_cluster="on"))
    try:
        yield r
    finally:
        await r.aclose()


async def test_masters_are_named_in_the_order_of_the_shards_they_serve(
    cluster: PrivateCluster, client: AnyRedis
) -> None:
    tags = Keys("bench-order").tags
    order = await masters(client, tags)
    assert sorted(int(name.rsplit(":", 1)[1]) for name in order) == sorted(cluster.ports)
    assert order[0].endswith(f":{cluster.master_of(tags[0]).port}")
    assert order[-1].endswith(f":{cluster.master_of(tags[-1]).port}")
    for tag in tags:
        assert master_of(client, tag).endswith(f":{cluster.master_of(tag).port}")


async def test_each_master_is_read_on_its_own(cluster: PrivateCluster, client: AnyRedis) -> None:
    keys = Keys("bench-read")
    await masters(client, keys.tags)
    stream = keys.stream("noop")
    before = await read_masters(client)
    for _ in range(50):
        await client.xlen(stream)
    after = await read_masters(client)
    assert len(after) == 3
    counted = {m: commands_between(before[m], after[m]) for m in after}
    home = master_of(client, stream)
    assert counted[home] >= 50
    assert sum(counted.values()) - counted[home] < 50
    assert commands_between(before[home], after[home], {"xlen": 50}) == counted[home] - 50
    await drop_namespace(client, keys.namespace)


def test_the_bench_s_own_info_is_not_counted() -> None:
    before = Reading(1.0, 10, {"info": 3, "evalsha": 5}, 0)
    after = Reading(2.0, 20, {"info": 9, "evalsha": 8, "xlen": 4}, 0)
    assert commands_between(before, after) == 3 + 4
    assert commands_between(before, after, {"xlen": 6}) == 3  # never below zero per command


async def test_drop_namespace_deletes_its_keys_on_every_master_only(client: AnyRedis) -> None:
    mine, theirs = Keys("bench-drop"), Keys("bench-dropx")
    for keys in (mine, theirs):
        for k in range(keys.shards):
            fn = next(f"f{i}" for i in range(1000) if keys.shard(f"f{i}") == k)
            await client.set(keys.invocation(fn, f"{fn}.{'0' * 24}"), b"1")
        await client.sadd(keys.runners, b"r1")
        await client.hset(keys.schedule_index, b"s", b"f")
    homes = {master_of(client, tag) for tag in mine.tags}
    assert len(homes) == 3, "the namespace's keys are on every master"
    dropped = await drop_namespace(client, mine.namespace)
    assert dropped == mine.shards + 2
    left = [key async for key in client.scan_iter(match="bench-drop*")]
    left += [key async for key in client.scan_iter(match="{bench-drop*")]
    assert left and all(b"bench-dropx" in key for key in left)
    assert await drop_namespace(client, theirs.namespace) == theirs.shards + 2
