"""Pausing end to end, with a real gateway and runner process: a paused function accepts
invocations (202 queued) that stay queued while it is paused, running work finishes, and a
resume runs them; GET /runners shows the runner, what it runs and its oldest lease."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.settings import Settings
from tests.e2e.test_deployed import post, reported
from tests.fault.checker import final_statuses
from tests.support.procs import start_gateway, start_runner, wait_until

pytestmark = pytest.mark.e2e

WORK = """
import asyncio

async def handle(payload, ctx):
    await asyncio.sleep(payload.get("sleep", 0))
    return payload
"""
QUIET_S = 2.0  # how long the paused work must stay queued: past a runner's refresh and a read


async def get(http: aiohttp.ClientSession, gw: Child, path: str) -> Any:
    async with http.get(f"{gw.url}{path}") as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def served(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    redis: Redis,
    http: aiohttp.ClientSession,
    *args: str,
    **extra: str,
) -> tuple[Child, Child]:
    """A runner serving ``work`` and a gateway that lists it."""
    (Path(settings.functions_dir) / "work.py").write_text(WORK)
    runner = start_runner(settings, tmp_path, *args, **extra)
    procs.append(runner)
    gw = await start_gateway(settings, tmp_path)
    procs.append(gw)
    await reported(settings, redis, [runner])

    async def listed() -> bool:
        return any(f["name"] == "work" for f in (await get(http, gw, "/functions"))["functions"])

    await wait_until(listed, 10, what="the gateway to list work")
    return runner, gw


async def test_pause_keeps_invocations_queued_and_resume_runs_them(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    runner, gw = await served(settings, tmp_path, procs, redis, http, "--concurrency", "4")
    keys = Keys.of(settings)

    status, long = await post(http, gw, "/invoke/work", {"sleep": 1.5})
    assert status == 202

    async def running() -> bool:
        return bool((await get(http, gw, "/functions/work"))["running"] == 1)

    await wait_until(running, 10, what="the long one to start")
    status, paused = await post(http, gw, "/functions/work/pause", None)
    assert (status, paused["paused"]) == (200, True)

    async def honoured(names: list[str]) -> bool:
        rows = (await get(http, gw, "/runners"))["runners"]
        return bool(rows) and rows[0]["paused"] == names

    await wait_until(lambda: honoured(["work"]), 10, what="the runner to report the pause")
    accepted = []
    for i in range(3):
        status, body = await post(http, gw, "/invoke/work", {"n": i})
        assert (status, body["status"]) == (202, "queued")
        accepted.append(body["id"])

    deadline = time.monotonic() + QUIET_S
    while time.monotonic() < deadline:  # a window in which none of them may start
        work = await get(http, gw, "/functions/work")
        assert work["paused"] is True and work["queued"] == 3, work
        await asyncio.sleep(0.1)
    assert (await final_statuses(redis, keys, [long["id"]])) == {long["id"]: "succeeded"}
    assert set((await final_statuses(redis, keys, accepted)).values()) == {"queued"}
    (row,) = (await get(http, gw, "/runners"))["runners"]
    assert (row["pid"], row["concurrency"], row["functions"]) == (runner.pid, 4, ["work"])
    assert row["in_flight"] == 0 and row["oldest_lease"] is None

    status, resumed = await post(http, gw, "/functions/work/resume", None)
    assert (status, resumed["paused"]) == (200, False)

    async def all_ran() -> bool:
        return set((await final_statuses(redis, keys, accepted)).values()) == {"succeeded"}

    await wait_until(all_ran, 10, interval=0.05, what="the paused work to run")
    await wait_until(lambda: honoured([]), 10, what="the runner to report the resume")


async def test_runners_shows_the_oldest_lease_of_a_runner_at_work(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    # Heartbeats (and so reports) every 0.5 s: what a report says is that fresh.
    await served(settings, tmp_path, procs, redis, http, STREAMFN_VISIBILITY_TIMEOUT="1.5")
    gw = procs[-1]
    status, body = await post(http, gw, "/invoke/work", {"sleep": 5})
    assert status == 202

    async def leased() -> bool:
        rows = (await get(http, gw, "/runners"))["runners"]
        return bool(rows and rows[0]["oldest_lease"] and rows[0]["in_flight"] == 1)

    await wait_until(leased, 10, interval=0.1, what="the report to show the lease")
    (row,) = (await get(http, gw, "/runners"))["runners"]
    assert row["oldest_lease"]["id"] == body["id"]
    assert row["oldest_lease"]["queue"] == "work"
    assert 0 <= row["oldest_lease"]["age_s"] < 5
    assert row["heartbeat_age_s"] < 2 and row["version"]
    assert row["started_at"] <= row["heartbeat_at"]
