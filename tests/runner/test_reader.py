"""Reader: never takes more than the free slots, rotates across streams, and survives a lost
consumer group and a Redis restart."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import ConnectionError

from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.keys import GROUP, Keys
from streamfn.launch import PrivateRedis
from streamfn.settings import Settings
from tests.runner.conftest import (
    StartRunner,
    lines,
    recorder,
    wait_final,
    wait_for,
    write_function,
)

SLEEPY = """
async def handle(payload, ctx):
    record(ctx.function, ctx.invocation_id)
    await asyncio.sleep(payload["seconds"])
"""


async def test_never_reads_more_than_free_slots(
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, SLEEPY))
    runner = await start_runner(concurrency=2)
    ids = await client.enqueue_many("work", [{"seconds": 0.3}] * 6)
    await wait_for(lambda: len(lines(log)) == 2, 5, "the first two to start")
    await asyncio.sleep(0.1)
    # Both slots busy: the other four stay unread in the stream, not in a local buffer.
    assert (await redis.xpending(keys.stream("work"), GROUP))["pending"] == 2
    assert runner.parts.reader.delivered == 2

    def within_slots() -> bool:
        assert runner.parts.executor.running <= 2
        return len(lines(log)) == 6

    await wait_for(within_slots, 5, "all six to run")
    await wait_final(client, ids, 2)


async def test_streams_take_turns_when_slots_are_scarce(
    fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    for name in ("aa", "bb", "cc"):
        write_function(fdir, name, recorder(log, SLEEPY))
    ids = []
    for name in ("aa", "bb", "cc"):
        ids += await client.enqueue_many(name, [{"seconds": 0.02}] * 4)
    await start_runner(concurrency=1)
    await wait_final(client, ids, 5)
    order = [row[0] for row in lines(log)]
    assert set(order[:3]) == {"aa", "bb", "cc"}, order


async def test_reads_over_resp2_and_resp3(
    fdir: Path, client: Client, settings: Settings, start_runner: StartRunner, tmp_path: Path
) -> None:
    """XREADGROUP's reply is a map under RESP3 and a list of pairs under RESP2: both work."""
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, SLEEPY))
    for protocol in (2, 3):
        use = replace(settings, redis_url=f"{settings.redis_url}?protocol={protocol}")
        runner = await start_runner(use, concurrency=4)
        used = runner.parts.reader.redis
        if not isinstance(used, RedisCluster):  # the cluster client parses replies itself
            kwargs = used.connection_pool.connection_kwargs
            assert int(kwargs["protocol"]) == protocol
        ids = await client.enqueue_many("work", [{"seconds": 0}] * 3)
        assert [i.status for i in await wait_final(client, ids, 5)] == ["succeeded"] * 3
        await runner.shutdown()


async def test_lost_consumer_group_is_recreated(
    fdir: Path, client: Client, redis: Redis, keys: Keys, start_runner: StartRunner
) -> None:
    write_function(fdir, "echo", "async def handle(payload, ctx):\n    return payload\n")
    await start_runner()
    first = await client.enqueue("echo", 1)
    await wait_final(client, [first.id])
    await redis.xgroup_destroy(keys.stream("echo"), GROUP)
    again = await client.enqueue("echo", 2)  # the stream exists, so enqueue adds no group
    (inv,) = await wait_final(client, [again.id], 5)
    assert inv.status == "succeeded" and inv.result == 2


async def test_survives_a_redis_restart_without_data(
    settings: Settings, fdir: Path, start_runner: StartRunner, tmp_path: Path
) -> None:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        use = replace(settings, redis_url=server.url)
        write_function(fdir, "echo", "async def handle(payload, ctx):\n    return payload\n")
        redis = make_redis(use)
        client = Client(redis, use)
        await start_runner(use)
        first = await client.enqueue("echo", 1)
        await wait_final(client, [first.id])

        server.kill()
        await asyncio.sleep(0.3)  # the runner's loops now fail and back off
        server.start()  # same port, no data: no groups, no scripts
        again = None

        async def enqueued() -> bool:
            nonlocal again
            try:  # the test's own pooled connection died with the server too
                again = await client.enqueue("echo", 2)
            except ConnectionError:
                return False
            return True

        await wait_for(enqueued, 5, "Redis to accept an enqueue again")
        assert again is not None
        (inv,) = await wait_final(client, [again.id], 8)
        assert inv.status == "succeeded" and inv.result == 2
        await redis.aclose()
    finally:
        server.stop()
