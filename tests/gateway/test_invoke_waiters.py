"""1,000 concurrent ``?wait=`` calls on one gateway: waiters share one pub/sub connection."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from redis.asyncio import Redis

from streamfn.gateway.app import REDIS_CONNECTIONS
from streamfn.gateway.server import start
from streamfn.gateway.state import CLIENT
from streamfn.settings import Settings
from streamfn.waiters import WaiterHub
from tests.gateway.fake_runner import FakeRunner
from tests.support.procs import wait_until

WAITERS = 1000


async def connected_clients(redis: Redis) -> int:
    info = await redis.info("clients")
    return int(info["connected_clients"])


async def complete_when_all_wait(
    hub: WaiterHub,
    redis: Redis,
    runner: FakeRunner,
    calls: list[asyncio.Task[tuple[int, Any]]],
    baseline: int,
) -> list[tuple[int, Any]]:
    async def all_waiting() -> bool:
        return hub.waiting == WAITERS

    await wait_until(all_waiting, 30, what="every request waiting at the same time")
    deadline = time.monotonic() + 30
    during = await connected_clients(redis)
    assert during - baseline <= REDIS_CONNECTIONS + 1  # the pool and pub/sub, not 1,000

    entries: list[Any] = []
    while len(entries) < WAITERS and time.monotonic() < deadline:
        entries += await runner.claim("echo")
    assert len(entries) == WAITERS
    assert set(await runner.finish("echo", entries)) == {"succeeded"}
    return await asyncio.wait_for(asyncio.gather(*calls), 30)


async def test_thousand_concurrent_waiters(
    settings: Settings, known: tuple[str, ...], redis: Redis, runner: FakeRunner
) -> None:
    baseline = await connected_clients(redis)
    gateway = await start(settings)  # a real listening gateway on 127.0.0.1:<port 0>
    try:
        host, port = gateway.addresses[0][:2]
        hub = gateway.app[CLIENT].waiters
        url = f"http://{host}:{port}/invoke/echo?wait=30"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def call(i: int) -> tuple[int, Any]:
                async with session.post(url, json={"i": i}) as response:
                    return response.status, await response.json()

            calls = [asyncio.create_task(call(i)) for i in range(WAITERS)]
            try:
                results = await complete_when_all_wait(hub, redis, runner, calls, baseline)
            finally:
                for task in calls:
                    task.cancel()
        assert {status for status, _ in results} == {200}
        assert sorted(body["result"]["echo"]["i"] for _, body in results) == list(range(WAITERS))
        assert hub.waiting == 0
    finally:
        await gateway.cleanup()
