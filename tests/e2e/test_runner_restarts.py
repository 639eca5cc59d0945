"""Runners restarting under load: every request is accepted, every invocation runs.

A client posts about 100 invocations a second to a gateway in front of two runner processes
while (1) every runner is stopped for 3 s and then started again, and (2) each runner in turn
is replaced by a new process (a rolling restart), either waiting for each replacement to
report before stopping the next, or not (a rollout with no readiness check).  Each prints its
figures (``pytest -s`` shows them): requests refused (anything but 2xx, or no answer) and
invocations lost (answered 202, not succeeded once runners are back).  Both must be 0.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.launch.children import stop_all
from streamfn.settings import Settings
from tests.e2e.restarts import (
    ECHO,
    Client,
    Figures,
    replace_each,
    runner_reported,
    settle,
    tally,
)
from tests.fault.load import Load
from tests.support.procs import start_gateway, start_runner, wait_until

pytestmark = pytest.mark.e2e

RUNNERS = 2
SETTLE_S = 30.0


async def _stack(
    settings: Settings, tmp_path: Path, procs: list[Child], redis: Redis
) -> tuple[Child, list[Child]]:
    """Two runners serving ``work`` and a gateway, each runner reported."""
    (settings.functions_dir / "work.py").write_text(ECHO)
    runners = [start_runner(settings, tmp_path) for _ in range(RUNNERS)]
    procs.extend(runners)
    gw = await start_gateway(settings, tmp_path)
    procs.append(gw)
    await _reported(settings, redis, runners)
    return gw, runners


async def _reported(settings: Settings, redis: Redis, runners: list[Child]) -> None:
    keys = Keys.of(settings)
    for runner in runners:
        check = functools.partial(runner_reported, redis, keys, runner)
        await wait_until(check, 30, interval=0.05, what=f"runner {runner.pid} reported")


async def _gateway_sees_runners(http: aiohttp.ClientSession, gw: Child, count: int) -> bool:
    async with http.get(f"{gw.url}/functions") as r:
        return r.status == 200 and (await r.json())["runners"] == count


async def test_no_live_runner_every_request_is_accepted_and_runs(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    gw, runners = await _stack(settings, tmp_path, procs, redis)
    waited: list[tuple[int, dict[str, str]]] = []
    async with Load(gw.url, "work") as load:
        async with Client(load) as client:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(stop_all, runners, settings.shutdown_grace + 5)
            check = functools.partial(_gateway_sees_runners, http, gw, 0)
            await wait_until(check, 5, what="the gateway to see no live runner")
            for _ in range(3):  # ?wait= waits as usual, then answers 202: nothing runs it
                async with http.post(f"{gw.url}/invoke/work?wait=0.5", json={}) as r:
                    waited.append((r.status, await r.json()))
            await asyncio.sleep(3.0)
            back = [start_runner(settings, tmp_path) for _ in range(RUNNERS)]
            procs.extend(back)
            await _reported(settings, redis, back)
            await asyncio.sleep(1.0)
        figures = tally(Figures("no live runner"), load, client.seconds)
        load.history.acked.update(dict.fromkeys(b["id"] for s, b in waited if s == 202))
        await settle(redis, Keys.of(settings), figures, load, SETTLE_S)
    print(figures.line(), f"; ?wait=0.5 with no runner answered {[s for s, _ in waited]}")
    assert figures.refused == 0, figures.line()
    assert figures.lost == 0, figures.line()
    assert [(s, b.get("status")) for s, b in waited] == [(202, "queued")] * len(waited), waited


@pytest.mark.parametrize("wait_reported", [True, False], ids=["paced", "unpaced"])
async def test_rolling_restart_refuses_nothing_and_loses_nothing(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
    wait_reported: bool,
) -> None:
    gw, runners = await _stack(settings, tmp_path, procs, redis)
    async with Load(gw.url, "work") as load:
        async with Client(load) as client:
            await asyncio.sleep(1.0)
            fresh = await replace_each(
                settings, tmp_path, procs, redis, runners, wait_reported=wait_reported
            )
            await _reported(settings, redis, fresh)
            await asyncio.sleep(1.0)
        pace = "each replacement reported first" if wait_reported else "no readiness wait"
        figures = tally(Figures(f"rolling restart, {pace}"), load, client.seconds)
        await settle(redis, Keys.of(settings), figures, load, SETTLE_S)
    print(figures.line())
    assert figures.refused == 0, figures.line()
    assert figures.lost == 0, figures.line()
