"""Pauses: a paused function's running work finishes, nothing new of it starts (not even what a
read already in flight delivers), other functions go on, and a resume starts it again; the
reclaimer leaves a dead runner's entries of a paused function alone until the resume."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from pathlib import Path

from redis.asyncio import Redis

from streamfn import pauses
from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.runner.supervisor import Runner
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
    return ctx.invocation_id
"""
QUIET_S = 1.5  # how long nothing may start while paused: past a refresh and a read's BLOCK


def started(log: Path, fn: str) -> list[str]:
    return [row[1] for row in lines(log) if row[0] == fn]


async def seen_paused(runner: Runner, fn: str, paused: bool) -> None:
    names = runner.parts.pauses
    await wait_for(lambda: (fn in names.names) == paused, 3, f"the runner to see {fn} {paused}")


async def test_in_flight_finishes_nothing_new_starts_and_resume_runs_the_rest(
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, SLEEPY))
    write_function(fdir, "other", recorder(log, SLEEPY))
    runner = await start_runner(concurrency=4)
    first = await client.enqueue("work", {"seconds": 0.8})
    await wait_for(lambda: started(log, "work") == [first.id], 5, "the first to start")

    await pauses.pause(redis, keys, "work")
    await seen_paused(runner, "work", True)
    waiting = await client.enqueue_many("work", [{"seconds": 0}] * 3)
    unaffected = await client.enqueue("other", {"seconds": 0})
    (done,) = await wait_final(client, [first.id], 5)
    assert done.status == "succeeded", "work running when it was paused finishes"
    (other,) = await wait_final(client, [unaffected.id], 5)
    assert other.status == "succeeded", "other functions are not paused"

    deadline = time.monotonic() + QUIET_S
    while time.monotonic() < deadline:  # a window in which nothing may happen
        assert started(log, "work") == [first.id]
        await asyncio.sleep(0.05)
    for inv_id in waiting:
        got = await client.get(inv_id)
        assert got is not None and got.status == "queued"
    assert (await redis.xpending(keys.stream("work"), GROUP))["pending"] == 0
    assert await redis.xlen(keys.stream("work")) == 3

    await pauses.resume(redis, keys, "work")
    finished = await wait_final(client, waiting, 5)
    assert [i.status for i in finished] == ["succeeded"] * 3


async def test_an_entry_a_read_in_flight_delivers_after_the_pause_is_handed_back(
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, SLEEPY))
    runner = await start_runner(concurrency=4)
    readers, watch = runner.parts.reader.readers, runner.parts.pauses
    reader = readers.get(keys.tag("work")) or readers[None]
    ids: list[str] = []
    for _ in range(5):  # a busy machine may miss the read's window: then try again
        for _ in range(2):  # two rounds: the read now out names "work" (rebuilt, grouped)
            mark = reader.pulse.ended
            await wait_for(lambda m=mark: reader.pulse.ended != m, 3, "a read round to end")
        # That read waits up to 500 ms; the runner learns of the pause meanwhile.
        await pauses.pause(redis, keys, "work")
        await watch.tick()
        inv = await client.enqueue("work", {"seconds": 0})
        with contextlib.suppress(AssertionError):  # missed: never delivered (checked below)
            await wait_for(lambda: watch.handed_back == 1, 1.5, "the late entry handed back")
        assert started(log, "work") == ids, "nothing started while paused"
        got = await client.get(inv.id)
        assert got is not None and got.status == "queued"
        assert (await redis.xpending(keys.stream("work"), GROUP))["pending"] == 0
        assert await redis.xlen(keys.stream("work")) == 1, "back in the stream, once"
        await pauses.resume(redis, keys, "work")
        await watch.tick()
        (done,) = await wait_final(client, [inv.id], 5)
        assert (done.status, done.attempt) == ("succeeded", 1)
        ids.append(inv.id)
        if watch.handed_back:
            break
    assert watch.handed_back == 1


async def test_a_dead_runners_entries_of_a_paused_function_wait_for_the_resume(
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    fast: Settings,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, SLEEPY))
    await pauses.pause(redis, keys, "work")
    inv = await client.enqueue("work", {"seconds": 0})
    # A runner that died holding it: delivered to a consumer with no live report.
    delivered = await redis.xreadgroup(GROUP, "gone-1-abcd", {keys.stream("work"): ">"}, count=1)
    assert delivered
    runner = await start_runner(replace(fast, consumer_idle_limit=0.5))
    await seen_paused(runner, "work", True)
    await asyncio.sleep(fast.visibility_timeout + 4 * fast.claim_interval)  # claimable by now
    assert runner.parts.reclaimer.reclaimed == 0 and started(log, "work") == []
    pending = await redis.xpending(keys.stream("work"), GROUP)
    assert pending["pending"] == 1 and pending["consumers"][0]["name"] == b"gone-1-abcd"
    await wait_for(lambda: runner.parts.janitor.sweeps >= 1, 5, "the janitor's first sweep")
    assert b"gone-1-abcd" in await consumers(redis, keys), "it holds work: kept"

    await pauses.resume(redis, keys, "work")
    (done,) = await wait_final(client, [inv.id], 5)
    assert done.status == "succeeded"
    assert runner.parts.reclaimer.reclaimed == 1

    async def reaped() -> bool:
        return b"gone-1-abcd" not in await consumers(redis, keys)

    await wait_for(reaped, 10, "the janitor to delete the dead consumer after the resume")


async def consumers(redis: Redis, keys: Keys) -> set[bytes]:
    return {c["name"] for c in await redis.xinfo_consumers(keys.stream("work"), GROUP)}


async def test_a_paused_functions_timers_still_promote_and_wait_in_its_stream(
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "work", recorder(log, SLEEPY))
    await pauses.pause(redis, keys, "work")
    runner = await start_runner()
    await seen_paused(runner, "work", True)
    later = await client.enqueue("work", {"seconds": 0}, delay=0.3)
    assert later.status == "scheduled"

    async def promoted() -> bool:
        got = await client.get(later.id)
        return got is not None and got.status == "queued"

    await wait_for(promoted, 5, "the timekeeper to promote it into the stream")
    assert await redis.zcard(keys.timers("work")) == 0
    assert await redis.xlen(keys.stream("work")) == 1
    assert started(log, "work") == []
    await pauses.resume(redis, keys, "work")
    (done,) = await wait_final(client, [later.id], 5)
    assert done.status == "succeeded"


async def test_every_queue_of_a_partitioned_function_is_paused(
    fdir: Path,
    client: Client,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "hot", recorder(log, SLEEPY) + "PARTITIONS = 2\n")
    runner = await start_runner()
    await pauses.pause(redis, keys, "hot")
    await seen_paused(runner, "hot", True)

    async def layout_known() -> bool:
        return (await client.refresh_partitions()).get("hot") == 2

    await wait_for(layout_known, 5, "the client to know PARTITIONS")
    ids = [(await client.enqueue("hot", {"seconds": 0})).id for _ in range(4)]
    assert {keys.tag(q) for q in ("hot", "hot@2.1")} == {
        keys.tag(q) for q in runner.parts.discovery.queues
    }
    deadline = time.monotonic() + QUIET_S
    while time.monotonic() < deadline:  # a window in which nothing may start
        assert started(log, "hot") == []
        await asyncio.sleep(0.05)
    assert [await redis.xlen(keys.stream(q)) for q in ("hot", "hot@2.1")] == [2, 2]
    await pauses.resume(redis, keys, "hot")
    finished = await wait_final(client, ids, 5)
    assert [i.status for i in finished] == ["succeeded"] * 4
