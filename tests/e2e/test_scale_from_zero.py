"""Scale to zero with real processes: a gateway, a scheduler, and a runner that loads ``echo``
and then stops, as the last runner does when KEDA scales the runners to zero.

With no runner live, KEDA's metric, read the way the shipped trigger reads it (its URL's path
from deploy/kubernetes/base/scaledobject.yaml, requested from the gateway process), must turn
active on one invocation at once, count a delayed one once the scheduler has promoted it, and
read 0 again once a runner is back and has run them.  Deadlines are generous; nothing here is
timed.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.registry import read_catalog
from streamfn.settings import Settings
from tests.deploy.manifests import Trigger
from tests.support.procs import start_gateway, start_runner, start_scheduler, wait_until

pytestmark = pytest.mark.e2e

TRIGGER = Trigger.shipped()
ECHO = "async def handle(payload, ctx):\n    return payload\n"


@pytest.fixture
async def procs(redis: Redis) -> AsyncIterator[list[Child]]:
    """Processes the test started; stopped by pid before its keys are dropped."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for p in started:
            await asyncio.to_thread(p.stop)


@pytest.mark.timeout(120)
async def test_no_runner_live_one_invocation_activates_and_a_delayed_one_counts_when_due(
    settings: Settings, tmp_path: Path, procs: list[Child], redis: Redis, keys: Keys
) -> None:
    (settings.functions_dir / "echo.py").write_text(ECHO)
    runner = start_runner(settings, tmp_path)
    procs.append(runner)
    gateway = await start_gateway(settings, tmp_path)
    procs.append(gateway)
    scheduler = start_scheduler(settings, tmp_path, STREAMFN_LOG_LEVEL="INFO")
    procs.append(scheduler)

    async def loaded() -> bool:
        return "echo" in (await read_catalog(redis, keys)).functions

    async def scheduling() -> bool:
        return "scheduler started" in scheduler.output()

    await wait_until(loaded, 20, interval=0.05, what="the runner to load echo")
    await wait_until(scheduling, 20, interval=0.05, what="the scheduler to start")
    runner.signal(signal.SIGTERM)  # the last runner scaled away
    assert await asyncio.to_thread(runner.popen.wait, 20) == 0, runner.output()[-2000:]
    catalog = await read_catalog(redis, keys)
    assert catalog.runners == [] and catalog.functions["echo"]["state"] == "no_runner"

    async with aiohttp.ClientSession() as http:

        async def keda_reads() -> tuple[float, bool]:
            async with http.get(f"{gateway.url}{TRIGGER.path}") as response:
                return TRIGGER.read(response.status, await response.json())

        async def invoke(query: str = "") -> str:
            async with http.post(f"{gateway.url}/invoke/echo{query}", json="hi") as response:
                assert response.status == 202, await response.text()
                status: str = (await response.json())["status"]
                return status

        assert await keda_reads() == (0, False)
        assert await invoke() == "queued"
        assert await keda_reads() == (1, True)  # KEDA scales the runners 0 -> 1

        assert await invoke("?delay=1") == "scheduled"
        assert await keda_reads() == (1, True)  # waiting for its time, in no stream yet

        async def promoted() -> bool:
            return await keda_reads() == (2, True)

        await wait_until(promoted, 15, interval=0.1, what="the scheduler to promote it")

        procs.append(start_runner(settings, tmp_path))  # the runner KEDA started

        async def drained() -> bool:
            return await keda_reads() == (0, False)

        await wait_until(drained, 30, interval=0.1, what="the runner to run both")
