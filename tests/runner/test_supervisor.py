"""The runner process: SIGTERM hands unfinished work back at once, --burst drains and exits,
bad settings exit 2, and the registry report is withdrawn on a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.registry import read_catalog
from streamfn.settings import Settings
from tests.runner.conftest import (
    StartRunner,
    lines,
    recorder,
    stop,
    wait_final,
    wait_for,
    write_function,
)
from tests.support.procs import start_runner as start_process

WORK = """
import os
async def handle(payload, ctx):
    record(ctx.invocation_id, os.getpid(), time.time())
    await asyncio.sleep(payload["seconds"])
    return os.getpid()
"""


async def test_sigterm_hands_back_unfinished_work_to_another_runner(
    settings: Settings,
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    # A long lease: if hand-back failed, recovery would take 30 s and the test would time out.
    use = replace(settings, visibility_timeout=30.0, shutdown_grace=0.5)
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, WORK))
    leaving = start_process(use, tmp_path, "--concurrency", "3")
    try:
        quick = await client.enqueue_many("work", [{"seconds": 0.1}])
        slow = await client.enqueue_many("work", [{"seconds": 20}] * 4)
        await wait_final(client, quick, 15)
        await wait_for(lambda: len(lines(log)) == 4, 5, "3 slow ones running")

        async def reported() -> bool:
            return len((await read_catalog(redis, keys)).runners) == 1

        await wait_for(reported, 5, "the runner's report")
        leaving.signal(signal.SIGTERM)
        assert await asyncio.to_thread(leaving.popen.wait, 10) == 0, leaving.output()
        assert (await read_catalog(redis, keys)).runners == [], "report withdrawn on exit"
        assert (await redis.xpending(keys.stream("work"), GROUP))["pending"] == 0
        assert await redis.xlen(keys.stream("work")) == 4  # 3 handed back + 1 never read

        started = time.time()
        await start_runner(replace(use, shutdown_grace=0.1))
        await wait_for(lambda: len(lines(log)) == 8, 5, "all four to start again")
        restarts = [float(row[2]) for row in lines(log)[4:]]
        assert max(restarts) - started < 1.0
        for inv_id in slow:
            inv = await client.get(inv_id)
            assert inv is not None and inv.status == "running" and inv.attempt == 1
    finally:
        leaving.stop()


async def test_graceful_stop_lets_running_work_finish(
    settings: Settings, fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, WORK))
    runner = await start_runner(replace(settings, shutdown_grace=5))
    ids = await client.enqueue_many("work", [{"seconds": 0.5}] * 3)
    await wait_for(lambda: len(lines(log)) == 3, 5, "three running")
    await stop(runner)
    invs = await wait_final(client, ids, 1)
    assert {inv.status for inv in invs} == {"succeeded"}


async def test_burst_drains_every_stream_then_exits_zero(
    settings: Settings, fdir: Path, client: Client, tmp_path: Path
) -> None:
    write_function(fdir, "echo", "async def handle(payload, ctx):\n    return payload\n")
    write_function(fdir, "twice", "def handle(payload, ctx):\n    return payload * 2\n")
    a = await client.enqueue_many("echo", [{"i": i} for i in range(300)])
    b = await client.enqueue_many("twice", list(range(50)))
    later = await client.enqueue("echo", {}, delay=60)  # not due: not waited for
    proc = start_process(settings, tmp_path, "--burst")
    try:
        assert await asyncio.to_thread(proc.popen.wait, 20) == 0, proc.output()
    finally:
        proc.stop()
    invs = await wait_final(client, a + b, 1)
    assert {inv.status for inv in invs} == {"succeeded"}
    assert [inv.result for inv in invs[300:]] == [i * 2 for i in range(50)]
    pending = await client.get(later.id)
    assert pending is not None and pending.status == "scheduled"


async def test_burst_with_nothing_to_do_exits_at_once(
    settings: Settings, fdir: Path, start_runner: StartRunner
) -> None:
    write_function(fdir, "echo", "async def handle(payload, ctx):\n    return payload\n")
    runner = await start_runner(burst=True)
    took = await wait_for(runner.stopped.is_set, 5, "burst exit")
    assert took < 2


async def test_second_signal_cuts_the_grace_short(
    settings: Settings, fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, WORK))
    runner = await start_runner(replace(settings, shutdown_grace=30))
    await client.enqueue_many("work", [{"seconds": 20}])
    await wait_for(lambda: len(lines(log)) == 1, 5, "running")
    started = time.monotonic()
    runner.request_stop()
    await asyncio.sleep(0.1)
    runner.request_stop()
    await wait_for(runner.stopped.is_set, 5, "stop")
    assert time.monotonic() - started < 3
    assert os.getpid() == int(lines(log)[0][1])
