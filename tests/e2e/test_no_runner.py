"""Work that waits for a time needs no runner: ``streamfn scheduler`` processes promote due
timers and fire schedules into their streams while no runner is live, each exactly once
however many schedulers run, and a thousand deployed functions change nothing about that.

Real processes against the session's Redis (a cluster in the cluster tier).  Invocations are
enqueued with :class:`streamfn.client.Client` (through Redis, as ``streamfn invoke`` does):
today the gateway accepts only functions a live runner reports.  Times are not asserted (the
bench measures lateness): what must happen, happens within generous deadlines.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.registry import read_catalog
from streamfn.settings import Settings
from tests.support.procs import start_gateway, start_runner, start_scheduler, wait_until

pytestmark = pytest.mark.e2e

HANDLER = "async def handle(payload, ctx):\n    return payload\n"


@pytest.fixture
async def procs(redis: Redis) -> AsyncIterator[list[Child]]:
    """Processes a test started; stopped by pid before its keys are dropped."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for p in started:
            await asyncio.to_thread(p.stop)


async def schedulers(settings: Settings, tmp_path: Path, procs: list[Child], n: int) -> None:
    """Start ``n`` scheduler processes and wait until each says it serves."""
    started = [start_scheduler(settings, tmp_path, STREAMFN_LOG_LEVEL="INFO") for _ in range(n)]
    procs.extend(started)

    async def serving() -> bool:
        for child in started:
            if child.returncode() is not None:
                raise AssertionError(f"scheduler exited: {child.output()[-2000:]}")
        return all("scheduler started" in child.output() for child in started)

    await wait_until(serving, 20, interval=0.05, what=f"{n} schedulers to start")


async def stream_ids(redis: Redis, keys: Keys, function: str) -> list[str]:
    rows: Any = await redis.xrange(keys.stream(function))
    return [fields[b"id"].decode() for _, fields in rows]


async def queued(client: Client, ids: list[str], timeout: float) -> None:
    async def all_queued() -> bool:
        for i in ids:
            inv = await client.get(i)
            if inv is None or inv.status != "queued":
                return False
        return True

    await wait_until(all_queued, timeout, interval=0.05, what=f"{len(ids)} to be promoted")


async def test_delayed_invocations_reach_their_stream_once_with_two_schedulers_and_no_runner(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    redis: Redis,
    keys: Keys,
    client: Client,
) -> None:
    await schedulers(settings, tmp_path, procs, 2)
    assert (await read_catalog(redis, keys)).runners == []  # no runner, ever, in this test
    ids = [(await client.enqueue("later", {"i": i}, delay=1.0)).id for i in range(50)]
    first = await client.get(ids[0])
    assert first is not None and first.status == "scheduled"
    await queued(client, ids, 15)
    assert sorted(await stream_ids(redis, keys, "later")) == sorted(ids)  # each exactly once
    assert await redis.zcard(keys.timers("later")) == 0
    assert await redis.zscore(keys.due_timers(keys.tag("later")), "later") is None


@pytest.mark.timeout(120)
async def test_a_schedule_keeps_firing_into_its_stream_while_no_runner_is_live(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    redis: Redis,
    keys: Keys,
    client: Client,
) -> None:
    (settings.functions_dir / "tick.py").write_text(HANDLER)
    runner = start_runner(settings, tmp_path)
    procs.append(runner)
    gateway = await start_gateway(settings, tmp_path)
    procs.append(gateway)
    await schedulers(settings, tmp_path, procs, 1)

    async def loaded() -> bool:
        return "tick" in (await read_catalog(redis, keys)).functions

    await wait_until(loaded, 20, interval=0.05, what="the runner to load tick")
    async with aiohttp.ClientSession() as http:
        body = {"id": "every-second", "function": "tick", "every": "1s", "payload": {"n": 1}}
        async with http.post(f"{gateway.url}/schedules", json=body) as response:
            assert response.status == 201, await response.text()

    runner.signal(signal.SIGTERM)
    assert await asyncio.to_thread(runner.popen.wait, 20) == 0, runner.output()[-2000:]
    assert (await read_catalog(redis, keys)).runners == []
    waiting = await redis.xlen(keys.stream("tick"))

    async def fired_three_more() -> bool:
        return await redis.xlen(keys.stream("tick")) >= waiting + 3

    await wait_until(fired_three_more, 15, interval=0.1, what="three fires with no runner")
    fires = [await client.get(i) for i in await stream_ids(redis, keys, "tick")]
    assert all(f is not None and f.status == "queued" for f in fires)  # waiting for a runner

    procs.append(start_runner(settings, tmp_path))  # a runner comes back: they all run

    async def drained() -> bool:
        statuses = [await client.get(f.id) for f in fires if f is not None]
        return all(inv is not None and inv.status == "succeeded" for inv in statuses)

    await wait_until(drained, 30, interval=0.1, what="the waiting fires to run")


@pytest.mark.timeout(180)
async def test_a_delayed_invocation_of_the_1000th_function_is_promoted(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    redis: Redis,
    keys: Keys,
    client: Client,
) -> None:
    names = [f"fn_{i:04d}" for i in range(1, 1001)]
    for name in names:
        (settings.functions_dir / f"{name}.py").write_text(HANDLER)
    procs.append(start_runner(settings, tmp_path))
    await schedulers(settings, tmp_path, procs, 1)

    async def all_loaded() -> bool:
        return len((await read_catalog(redis, keys)).functions) == len(names)

    await wait_until(all_loaded, 120, interval=0.25, what="the runner to load 1,000 functions")
    later = await client.enqueue(names[-1], {"last": True}, delay=1.0)

    async def promoted() -> bool:  # queued_at is set by the promotion (it may have run since)
        inv = await client.get(later.id)
        return inv is not None and inv.queued_ms is not None

    await wait_until(promoted, 15, interval=0.05, what="the 1,000th to be promoted")
    await wait_until(
        lambda: _succeeded(client, later.id), 30, interval=0.05, what="the 1,000th to run"
    )


async def _succeeded(client: Client, invocation_id: str) -> bool:
    inv = await client.get(invocation_id)
    return inv is not None and inv.status == "succeeded"
