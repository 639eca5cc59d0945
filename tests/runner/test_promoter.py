"""Timer promotion: delayed invocations start on time, and concurrent promoters move each
timer exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.rdb import RDB
from streamfn.runner.clock import RedisClock
from streamfn.runner.discovery import Discovery
from streamfn.runner.promoter import Promoter, Promoters
from streamfn.settings import Settings
from tests.runner.conftest import StartRunner, lines, recorder, wait_final, wait_for, write_function

STAMP = """
async def handle(payload, ctx):
    record(ctx.invocation_id, time.time())
    return None
"""


async def test_delayed_invocations_start_within_100ms_of_due(
    fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "later", recorder(log, STAMP))
    await start_runner()
    scheduled = [await client.enqueue("later", {}, delay=0.6 + i * 0.07) for i in range(5)]
    assert {s.status for s in scheduled} == {"scheduled"}
    await wait_final(client, [s.id for s in scheduled], 5)
    started = {row[0]: float(row[1]) for row in lines(log)}
    for s in scheduled:
        assert s.due_ms is not None
        late = started[s.id] - s.due_ms / 1000  # same host: Redis TIME and time.time() agree
        assert -0.005 <= late <= 0.1, (s.id, late)


async def test_three_concurrent_promoters_promote_each_timer_once(
    settings: Settings, redis: Redis, keys: Keys, client: Client
) -> None:
    n = 250  # more than two full batches of 100
    for i in range(n):
        await client.enqueue("later", {"i": i}, delay=0.3)
    clocks = [RedisClock(redis) for _ in range(3)]
    promoters = [
        Promoter(RDB(redis, settings), redis, keys, clock, "later", settings.promote_interval)
        for clock in clocks
    ]
    for clock in clocks:
        await clock.measure()
    for p in promoters:
        await p.start()
    try:

        async def all_promoted() -> bool:
            return await redis.zcard(keys.timers("later")) == 0

        await wait_for(all_promoted, 5, "the wheel to empty")
    finally:
        for p in promoters:
            await p.stop()
    assert sum(p.promoted for p in promoters) == n
    assert await redis.xlen(keys.stream("later")) == n
    rows: Any = await redis.xrange(keys.stream("later"))
    ids = [fields[b"id"] for _, fields in rows]
    assert len(set(ids)) == n
    sample = await client.get(ids[0].decode())
    assert sample is not None and sample.status == "queued"


async def test_promoters_follow_the_loaded_functions(
    settings: Settings, fdir: Path, redis: Redis, keys: Keys
) -> None:
    write_function(fdir, "one", "async def handle(p, c):\n    return 1\n")
    discovery = Discovery(settings)
    await discovery.scan()
    clock = RedisClock(redis)
    promoters = Promoters(RDB(redis, settings), redis, keys, clock, discovery, 0.05)
    await promoters.sync()
    assert set(promoters.loops) == {"one"}
    (fdir / "one.py").unlink()
    write_function(fdir, "two", "async def handle(p, c):\n    return 2\n")
    await discovery.scan()
    await promoters.sync()
    assert set(promoters.loops) == {"two"}
    await promoters.stop()
    assert promoters.loops == {}
    await asyncio.sleep(0)
