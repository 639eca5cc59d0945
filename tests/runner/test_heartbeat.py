"""Heartbeat: a healthy job longer than the visibility timeout keeps its lease; a lost lease
cancels the handler and drops its outcome."""

from __future__ import annotations

from pathlib import Path

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

LONG = """
async def handle(payload, ctx):
    record("start", ctx.invocation_id)
    try:
        await asyncio.sleep(payload["seconds"])
    except asyncio.CancelledError:
        record("cancelled", ctx.invocation_id)
        raise
    record("end", ctx.invocation_id)
    return "done"
"""


async def test_three_visibility_timeouts_long_job_runs_exactly_once(
    fast: Settings,
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "long", recorder(log, LONG))
    a = await start_runner(fast)
    b = await start_runner(fast)  # a second runner keeps sweeping for idle entries
    queued = await client.enqueue("long", {"seconds": 3 * fast.visibility_timeout + 0.2})
    (inv,) = await wait_final(client, [queued.id], 10)
    assert inv.status == "succeeded"
    assert [row[0] for row in lines(log)] == ["start", "end"]
    assert a.parts.reclaimer.reclaimed == b.parts.reclaimer.reclaimed == 0
    assert (await redis.xpending(keys.stream("long"), GROUP))["pending"] == 0


async def test_lost_lease_cancels_the_handler_and_drops_its_outcome(
    fast: Settings,
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "long", recorder(log, LONG))
    runner = await start_runner(fast)
    queued = await client.enqueue("long", {"seconds": 30})
    await wait_for(lambda: len(lines(log)) == 1, 5, "the handler to start")
    (entry,) = runner.parts.leases.by_function["long"]
    # Another runner takes the entry over (as if this one had been paused past its lease).
    await redis.xclaim(keys.stream("long"), GROUP, "thief", 0, [entry])
    await wait_for(lambda: [r[0] for r in lines(log)] == ["start", "cancelled"], 3, "cancel")
    assert runner.parts.heartbeat.lost == 1
    assert len(runner.parts.leases) == 0
    sample = runner.parts.metrics.registry.get_sample_value(
        "streamfn_invocations_total", {"function": "long", "outcome": "stale"}
    )
    assert sample == 1
    inv = await client.get(queued.id)
    assert inv is not None and inv.status == "running"  # the thief's, untouched by us
    pending = await redis.xpending_range(keys.stream("long"), GROUP, "-", "+", 10)
    assert [p["consumer"] for p in pending] == [b"thief"]
