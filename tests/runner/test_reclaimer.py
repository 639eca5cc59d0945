"""Reclaim: a killed runner's work is finished by another within VT + 1 s; poison messages
and entries deleted while pending are handled without running them."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.settings import Settings
from tests.runner.conftest import (
    StartRunner,
    lines,
    recorder,
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


async def test_killed_runners_work_is_recovered_within_vt_plus_one_second(
    fast: Settings, fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, WORK))
    victim = start_process(fast, tmp_path, "--concurrency", "5")
    try:
        ids = await client.enqueue_many("work", [{"seconds": 1.0}] * 10)
        await wait_for(lambda: len(lines(log)) == 5, 15, f"5 running ({victim.output()})")
        victim.signal(signal.SIGKILL)
        killed_at = time.time()
        victim.popen.wait(5)
        held = {row[0] for row in lines(log)}

        await start_runner(fast, concurrency=10)
        invs = await wait_final(client, ids, 15)
        assert {inv.status for inv in invs} == {"succeeded"}
        assert {inv.result for inv in invs} == {os.getpid()}
        rerun = [row for row in lines(log) if row[0] in held and int(row[1]) == os.getpid()]
        assert {row[0] for row in rerun} == held, "each entry the dead runner held ran again"
        recovery = max(float(row[2]) for row in rerun) - killed_at
        assert recovery <= fast.visibility_timeout + 1.0, recovery
    finally:
        victim.stop()


async def test_poison_message_is_dead_lettered_without_running(
    settings: Settings,
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    use = replace(settings, visibility_timeout=0.5, claim_interval=0.1, max_deliveries=1)
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, WORK))
    queued = await client.enqueue("work", {"seconds": 0})
    # A runner took it and died (delivery 1); the next delivery exceeds max_deliveries=1.
    await redis.xreadgroup(GROUP, "crashed", {keys.stream("work"): ">"}, count=1)
    runner = await start_runner(use)
    (inv,) = await wait_final(client, [queued.id], 5)
    assert inv.status == "dead"
    assert inv.error["type"] == "PoisonMessage"
    assert "delivered 2 times" in inv.error["message"]
    assert "STREAMFN_MAX_DELIVERIES=1" in inv.error["message"]
    assert lines(log) == []
    (letter,) = await client.dead_letters("work")
    assert letter.invocation_id == queued.id
    poison = runner.parts.metrics.registry.get_sample_value(
        "streamfn_poison_total", {"function": "work"}
    )
    assert poison == 1


async def test_entries_deleted_while_pending_are_dropped_and_counted(
    settings: Settings,
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    use = replace(settings, visibility_timeout=0.5, claim_interval=0.1)
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, WORK))
    kept, _gone = await client.enqueue_many("work", [{"seconds": 0}, {"seconds": 0}])
    reply: Any = await redis.xreadgroup(GROUP, "crashed", {keys.stream("work"): ">"}, count=2)
    entries = [e for _, rows in reply for e, _ in rows]
    await redis.xdel(keys.stream("work"), entries[1])
    runner = await start_runner(use)
    (inv,) = await wait_final(client, [kept], 5)
    assert inv.status == "succeeded"
    counted = runner.parts.metrics.registry.get_sample_value(
        "streamfn_reclaim_deleted_total", {"function": "work"}
    )
    assert counted == 1
    assert (await redis.xpending(keys.stream("work"), GROUP))["pending"] == 0
    assert [row[0] for row in lines(log)] == [kept]
