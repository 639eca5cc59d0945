"""Deployed functions end to end: how a function stops being deployed, with real processes.

* Its file leaves every runner's directory: ``404`` within 2 s, and what its queues hold is
  kept and listed under ``removed`` (and runs once a runner loads the file again).
* ``streamfn functions rm``: ``404`` at the gateway's next catalog refresh.
* No runner comes back within ``STREAMFN_DEPLOYED_RETENTION``: ``404`` once it ran out.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.launch.children import stop_all
from streamfn.settings import Settings
from tests.e2e.restarts import runner_reported
from tests.fault.checker import final_statuses
from tests.support.procs import env_for, start_gateway, start_runner, wait_until
from tests.support.run_cli import run_streamfn

pytestmark = pytest.mark.e2e

WORK = """
import asyncio

async def handle(payload, ctx):
    await asyncio.sleep(payload.get("sleep", 0))
    return payload
"""


async def post(http: aiohttp.ClientSession, gw: Child, path: str, body: Any) -> tuple[int, Any]:
    async with http.post(f"{gw.url}{path}", json=body) as r:
        return r.status, await r.json()


async def listing(http: aiohttp.ClientSession, gw: Child) -> dict[str, Any]:
    async with http.get(f"{gw.url}/functions") as r:
        assert r.status == 200
        body: dict[str, Any] = await r.json()
        return body


async def answers(
    http: aiohttp.ClientSession, gw: Child, status: int, accepted: list[str] | None = None
) -> bool:
    """POST /invoke/work is answered ``status``; the ids of the 202s go to ``accepted``."""
    got, body = await post(http, gw, "/invoke/work", {})
    if got == 202 and accepted is not None:
        accepted.append(body["id"])
    return got == status


async def no_runner(http: aiohttp.ClientSession, gw: Child) -> bool:
    return (await listing(http, gw))["runners"] == 0


async def reported(settings: Settings, redis: Redis, runners: list[Child]) -> None:
    for r in runners:
        check = functools.partial(runner_reported, redis, Keys.of(settings), r)
        await wait_until(check, 30, interval=0.05, what=f"runner {r.pid} reported")


async def test_a_file_removed_from_every_runner_is_404_within_2_s_and_its_work_is_kept(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    dirs = [settings.functions_dir, tmp_path / "second"]
    dirs[1].mkdir()
    for d in dirs:
        (d / "work.py").write_text(WORK)
    runners = [
        start_runner(settings, tmp_path, "--concurrency", "1", STREAMFN_FUNCTIONS_DIR=str(d))
        for d in dirs
    ]
    procs.extend(runners)
    gw = await start_gateway(settings, tmp_path)
    procs.append(gw)
    await reported(settings, redis, runners)
    await wait_until(lambda: answers(http, gw, 202), 10, what="work deployed")
    busy = [await post(http, gw, "/invoke/work", {"sleep": 60}) for _ in range(2)]
    waiting = [await post(http, gw, "/invoke/work", {"n": i}) for i in range(2)]
    later = await post(http, gw, "/invoke/work?delay=3600", {})
    assert {s for s, _ in [*busy, *waiting, later]} == {202}

    async def both_busy() -> bool:
        work = {f["name"]: f for f in (await listing(http, gw))["functions"]}["work"]
        return (work["running"], work["queued"]) == (2, 2)

    await wait_until(both_busy, 10, what="each runner running one, two queued")

    (dirs[0] / "work.py").unlink()
    await asyncio.sleep(1.0)  # the first runner dropped it: the second still serves it
    ids = [b["id"] for _, b in waiting]
    assert await answers(http, gw, 202, ids)
    (dirs[1] / "work.py").unlink()
    took = await wait_until(lambda: answers(http, gw, 404, ids), 2, interval=0.05, what="404")
    assert took <= 2.0
    status, body = await post(http, gw, "/invoke/work", {})
    assert (status, body["error"]["code"]) == (404, "unknown_function")
    assert "its file left the functions directory of every runner" in body["error"]["message"]
    assert "queued work is kept" in body["error"]["message"]
    shown = await listing(http, gw)
    assert shown["functions"] == []
    (removed,) = shown["removed"]
    assert (removed["name"], removed["reason"]) == ("work", "file_removed")
    queued = len(ids)  # the two waiting, and those accepted until the 404
    assert (removed["queued"], removed["running"], removed["scheduled"]) == (queued, 2, 1)

    # Loading it again deploys it again, and the work kept in its queues runs.
    third = tmp_path / "third"
    third.mkdir()
    (third / "work.py").write_text(WORK)
    procs.append(start_runner(settings, tmp_path, STREAMFN_FUNCTIONS_DIR=str(third)))
    await wait_until(lambda: answers(http, gw, 202), 30, what="work deployed again")

    async def kept_work_ran() -> bool:
        statuses = await final_statuses(redis, Keys.of(settings), ids)
        return set(statuses.values()) == {"succeeded"}

    await wait_until(kept_work_ran, 15, interval=0.1, what="the kept queued work to run")


async def test_functions_rm_is_404_at_the_next_refresh(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    (settings.functions_dir / "work.py").write_text(WORK)
    runner = start_runner(settings, tmp_path)
    procs.append(runner)
    gw = await start_gateway(settings, tmp_path)
    procs.append(gw)
    await reported(settings, redis, [runner])
    refused = await asyncio.to_thread(
        run_streamfn, "functions", "rm", "work", env=env_for(settings)
    )
    assert refused.returncode == 4, refused.stderr
    await asyncio.to_thread(stop_all, [runner], settings.shutdown_grace + 5)
    await wait_until(lambda: no_runner(http, gw), 2, what="the gateway to see no runner")
    status, body = await post(http, gw, "/invoke/work", {})
    assert (status, body["status"]) == (202, "queued"), "no runner: deployed, accepted"
    done = await asyncio.to_thread(run_streamfn, "functions", "rm", "work", env=env_for(settings))
    assert done.returncode == 0, done.stderr
    assert "removed work (its queues keep 1 queued" in done.stdout
    accepted: list[str] = []  # until this gateway's catalog refresh: at most 0.5 s
    took = await wait_until(lambda: answers(http, gw, 404, accepted), 2, interval=0.05)
    assert took <= 1.0
    removed = (await listing(http, gw))["removed"]
    assert [(r["name"], r["reason"]) for r in removed] == [("work", "operator")]
    assert removed[0]["queued"] == 1 + len(accepted)


async def test_retention_runs_out_when_no_runner_comes_back(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    retention = {"STREAMFN_DEPLOYED_RETENTION": "3"}
    (settings.functions_dir / "work.py").write_text(WORK)
    runner = start_runner(settings, tmp_path, **retention)
    procs.append(runner)
    gw = await start_gateway(settings, tmp_path, **retention)
    procs.append(gw)
    await reported(settings, redis, [runner])
    await asyncio.to_thread(stop_all, [runner], settings.shutdown_grace + 5)
    await wait_until(lambda: no_runner(http, gw), 2, what="the gateway to see no runner")
    status, body = await post(http, gw, "/invoke/work", {})
    assert status == 202
    kept = body["id"]
    (work,) = (await listing(http, gw))["functions"]
    assert work["state"] == "no_runner"
    assert work["retained_until"] - work["last_seen_at"] == 3000
    accepted = [kept]
    await wait_until(lambda: answers(http, gw, 404, accepted), 6, interval=0.1, what="expiry")
    status, body = await post(http, gw, "/invoke/work", {})
    assert "STREAMFN_DEPLOYED_RETENTION (3 s) ran out" in body["error"]["message"]
    (removed,) = (await listing(http, gw))["removed"]
    assert (removed["reason"], removed["queued"]) == ("retention_expired", len(accepted))

    procs.append(start_runner(settings, tmp_path, **retention))
    await wait_until(lambda: answers(http, gw, 202), 30, what="work deployed again")

    async def kept_work_ran() -> bool:
        statuses = await final_statuses(redis, Keys.of(settings), accepted)
        return set(statuses.values()) == {"succeeded"}

    await wait_until(kept_work_ran, 15, interval=0.1, what="the kept invocations to run")
