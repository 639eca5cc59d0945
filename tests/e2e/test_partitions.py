"""End to end: a function with ``PARTITIONS = 3`` through real gateway and runner processes.

Every invocation runs once, whichever queue it went to; ids name their queue; an
Idempotency-Key repeat finds the first; cancels, dead letters and replays work in every
queue; and a change of ``PARTITIONS`` on a live runner loses nothing.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn import partitions
from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.names import queue_of
from streamfn.settings import Settings
from tests.support.procs import start_gateway, start_runner, wait_until

pytestmark = pytest.mark.e2e

HANDLER = """
PARTITIONS = {p}
RETRIES = 0

async def handle(payload, ctx):
    if (payload or {{}}).get("fail"):
        raise RuntimeError("told to fail")
    return {{"id": ctx.invocation_id}}
"""


def write_hot(settings: Settings, p: int) -> None:
    (settings.functions_dir / "hot.py").write_text(HANDLER.format(p=p))


async def stack(
    settings: Settings, tmp_path: Path, procs: list[Child], http: aiohttp.ClientSession, p: int
) -> Child:
    """A runner and a gateway that lists ``hot`` with ``p`` partitions."""
    procs.append(start_runner(settings, tmp_path))
    gw = await start_gateway(settings, tmp_path)
    procs.append(gw)

    async def listed() -> bool:
        async with http.get(f"{gw.url}/functions") as r:
            fns = (await r.json())["functions"]
        return any(f["name"] == "hot" and f.get("partitions") == p for f in fns)

    await wait_until(listed, 10, what=f"hot listed with {p} partitions")
    return gw


async def invoke(http: aiohttp.ClientSession, gw: Child, body: object, **headers: str) -> str:
    async with http.post(f"{gw.url}/invoke/hot", json=body, headers=headers) as r:
        assert r.status in (200, 202), await r.text()
        return str((await r.json())["id"])


async def statuses(http: aiohttp.ClientSession, gw: Child, ids: list[str]) -> list[str]:
    out = []
    for inv in ids:
        async with http.get(f"{gw.url}/invocations/{inv}") as r:
            out.append((await r.json()).get("status", f"http {r.status}"))
    return out


async def all_are(http: aiohttp.ClientSession, gw: Child, ids: list[str], status: str) -> None:
    async def done() -> bool:
        return all(s == status for s in await statuses(http, gw, ids))

    await wait_until(done, 20, what=f"all {len(ids)} {status}")


async def test_work_spreads_over_the_queues_and_all_of_it_runs(
    settings: Settings, tmp_path: Path, procs: list[Child], http: aiohttp.ClientSession
) -> None:
    write_hot(settings, 3)
    gw = await stack(settings, tmp_path, procs, http, 3)
    ids = [await invoke(http, gw, {"n": i}) for i in range(30)]
    assert {queue_of(i) for i in ids} == set(partitions.queues("hot", 3))
    await all_are(http, gw, ids, "succeeded")
    # A sync wait on a partition queue hears its done channel.
    async with http.post(f"{gw.url}/invoke/hot?wait=10", json={}) as r:
        assert r.status == 200 and (await r.json())["status"] == "succeeded"
    # Idempotency-Key: the repeat lands in the same queue and finds the first.
    first = await invoke(http, gw, {}, **{"Idempotency-Key": "order-17"})
    again = await invoke(http, gw, {}, **{"Idempotency-Key": "order-17"})
    assert first == again
    assert queue_of(first) == partitions.queue_for_key("hot", 3, "order-17")[0]


async def test_cancels_dead_letters_and_replays_in_every_queue(
    settings: Settings, tmp_path: Path, procs: list[Child], http: aiohttp.ClientSession
) -> None:
    write_hot(settings, 3)
    gw = await stack(settings, tmp_path, procs, http, 3)
    later = []
    for _ in range(6):
        async with http.post(f"{gw.url}/invoke/hot?delay=60", json={}) as r:
            later.append((await r.json())["id"])
    assert {queue_of(i) for i in later} == set(partitions.queues("hot", 3))
    for inv in later:
        async with http.delete(f"{gw.url}/invocations/{inv}") as r:
            assert r.status == 200, await r.text()
    assert await statuses(http, gw, later) == ["cancelled"] * 6

    dead = [await invoke(http, gw, {"fail": True}) for _ in range(6)]
    await all_are(http, gw, dead, "dead")
    async with http.get(f"{gw.url}/dead-letters?function=hot") as r:
        listed = [d["id"] for d in (await r.json())["dead_letters"]]
    assert sorted(listed) == sorted(dead)
    for inv in dead:
        async with http.post(f"{gw.url}/dead-letters/{inv}/replay") as r:
            assert r.status == 202, await r.text()
    await all_are(http, gw, dead, "dead")  # replayed, ran again, failed again
    async with http.get(f"{gw.url}/dead-letters?function=hot") as r:
        assert len((await r.json())["dead_letters"]) == 6


async def test_changing_partitions_on_a_live_runner_loses_nothing(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    """Invocations parked in the 3-queue layout's timers and streams still run after the
    file says 2: the runner keeps reading the layout it announced until it is drained."""
    write_hot(settings, 3)
    gw = await stack(settings, tmp_path, procs, http, 3)
    parked = []
    for _ in range(12):
        async with http.post(f"{gw.url}/invoke/hot?delay=3", json={}) as r:
            parked.append((await r.json())["id"])
    assert {queue_of(i) for i in parked} == set(partitions.queues("hot", 3))
    write_hot(settings, 2)

    async def two() -> bool:
        async with http.get(f"{gw.url}/functions") as r:
            fns = (await r.json())["functions"]
        return any(f["name"] == "hot" and f.get("partitions") == 2 for f in fns)

    await wait_until(two, 10, what="hot listed with 2 partitions")
    fresh = [await invoke(http, gw, {}) for _ in range(6)]
    assert {queue_of(i) for i in fresh} == set(partitions.queues("hot", 2))
    await all_are(http, gw, parked + fresh, "succeeded")
    keys = Keys.of(settings)
    for q in partitions.queues("hot", 3)[1:]:  # the old queues were drained, not dropped
        assert await redis.xlen(keys.stream(q)) == 0
        assert await redis.zcard(keys.timers(q)) == 0
