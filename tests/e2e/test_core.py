"""End to end with real processes: every "Done when" line of the core issue.

Each test starts its own gateway and runner processes against the session's redis-server,
with a private namespace and functions directory.  A probe handler records every execution to
a local file (outside the Redis under test), stamped with Redis TIME, so the checks count real
executions and compare times on Redis's clock.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import signal
import textwrap
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn.keys import GROUP, Keys
from streamfn.launch import Child
from streamfn.settings import Settings
from tests.support.procs import start_gateway, start_runner, wait_until

pytestmark = pytest.mark.e2e

PROBE = '''
"""probe: records each execution (id, attempt, Redis TIME ms) to a file, then behaves as asked."""
import asyncio, os, time
import redis
from streamfn import Context

TIMEOUT = {timeout}
RETRIES = {retries}
BACKOFF = {backoff}
_r = redis.Redis.from_url(os.environ["PROBE_REDIS_URL"])

def _now_ms() -> int:
    s, us = _r.time()
    return s * 1000 + us // 1000

async def handle(payload, ctx: Context):
    started = _now_ms()
    with open(os.environ["PROBE_FILE"], "a") as f:
        f.write(f"{{ctx.invocation_id}} {{ctx.attempt}} {{started}} {{os.getpid()}}\\n")
    payload = payload or {{}}
    if payload.get("sleep"):
        await asyncio.sleep(payload["sleep"])
    if payload.get("raise"):
        raise RuntimeError("probe was told to fail")
    return {{"started": started}}
'''


def write_probe(
    functions: Path,
    name: str = "probe",
    *,
    timeout: float = 60,
    retries: int = 3,
    backoff: float = 1.0,
) -> None:
    (functions / f"{name}.py").write_text(
        textwrap.dedent(PROBE.format(timeout=timeout, retries=retries, backoff=backoff))
    )


def executions(probe_file: Path) -> list[tuple[str, int, int, int]]:
    if not probe_file.exists():
        return []
    rows = []
    for line in probe_file.read_text().splitlines():
        inv, attempt, started, pid = line.split()
        rows.append((inv, int(attempt), int(started), int(pid)))
    return rows


@pytest.fixture
def probe_env(tmp_path: Path, settings: Settings) -> dict[str, str]:
    return {"PROBE_FILE": str(tmp_path / "probe.log"), "PROBE_REDIS_URL": settings.redis_url}


async def listed(http: aiohttp.ClientSession, gw: Child, fn: str) -> bool:
    async with http.get(f"{gw.url}/functions") as r:
        body = await r.json()
    return any(f["name"] == fn for f in body["functions"])


async def start_stack(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    fn: str,
    *,
    runners: int = 1,
    env: dict[str, str] | None = None,
) -> Child:
    """Start ``runners`` runners and a gateway (all stopped by the ``procs`` fixture) and wait
    until the gateway lists ``fn``; returns the gateway."""
    for _ in range(runners):
        procs.append(start_runner(settings, tmp_path, **(env or {})))
    gw = await start_gateway(settings, tmp_path)
    procs.append(gw)
    await wait_until(lambda: listed(http, gw, fn), 10, what=f"{fn} listed")
    return gw


async def test_sync_invoke_returns_result(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    (settings.functions_dir / "echo.py").write_text(
        "async def handle(payload, ctx):\n    return payload\n"
    )
    gw = await start_stack(settings, tmp_path, procs, http, "echo")
    async with http.post(f"{gw.url}/invoke/echo?wait=5", data=b'{"hello":"world"}') as r:
        body = await r.json()
        assert r.status == 200, body
    assert body["status"] == "succeeded"
    assert body["result"] == {"hello": "world"}


async def test_dropped_file_goes_live_and_removed_file_404s(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    procs.append(start_runner(settings, tmp_path))
    gw = await start_gateway(settings, tmp_path)
    procs.append(gw)
    url = f"{gw.url}/invoke/dropped"
    async with http.post(url, json={}) as r:
        assert r.status == 404

    async def status_is(code: int) -> bool:
        async with http.post(url, json={"x": 1}) as r:
            return r.status == code

    path = settings.functions_dir / "dropped.py"
    path.write_text("def handle(payload, ctx):\n    return 'live'\n")
    took = await wait_until(lambda: status_is(202), 2.0, interval=0.05, what="dropped file live")
    assert took <= 2.0
    path.unlink()
    took = await wait_until(lambda: status_is(404), 2.0, interval=0.05, what="removed file 404")
    assert took <= 2.0


async def test_kill_9_runner_holding_100_in_flight_loses_nothing(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
    probe_env: dict[str, str],
) -> None:
    """Two runners share 200 one-second invocations; the one holding 100 is SIGKILLed."""
    write_probe(settings.functions_dir)
    keys = Keys.of(settings)
    runners = {}
    for _ in range(2):
        p = start_runner(settings, tmp_path, "--concurrency", "100", **probe_env)
        procs.append(p)
        runners[p.pid] = p
    gw = await start_gateway(settings, tmp_path)
    procs.append(gw)
    await wait_until(lambda: listed(http, gw, "probe"), 10, what="probe listed")
    await wait_until(lambda: _runners(redis, keys, 2), 10, what="two runners registered")
    ids = []
    for _ in range(200):
        async with http.post(f"{gw.url}/invoke/probe", json={"sleep": 1.0}) as r:
            assert r.status == 202
            ids.append((await r.json())["id"])

    victim: list[int] = []

    async def one_holds_100() -> bool:
        # Delivered (pending in Redis) and started (in the probe log): a loaded machine may
        # take a moment between the two, and a kill in between would find fewer running.
        info = await redis.xpending(keys.stream("probe"), GROUP)
        started = collections.Counter(r[3] for r in executions(Path(probe_env["PROBE_FILE"])))
        for c in info["consumers"]:
            # consumer names are <host>-<pid>-<hex>
            pid = int(c["name"].decode().rsplit("-", 2)[1])
            if int(c["pending"]) == 100 and started[pid] == 100:
                victim.append(pid)
                return True
        return False

    await wait_until(one_holds_100, 10, interval=0.01, what="a runner holding 100 in flight")
    a = runners.pop(victim[0])
    (survivor,) = runners.values()
    a.signal(signal.SIGKILL)
    killed_at = asyncio.get_running_loop().time()
    held = {r[0] for r in executions(Path(probe_env["PROBE_FILE"])) if r[3] == a.pid}
    assert len(held) == 100

    async def survivor_restarted_all() -> bool:
        rows = executions(Path(probe_env["PROBE_FILE"]))
        return held <= {r[0] for r in rows if r[3] == survivor.pid}

    await wait_until(
        survivor_restarted_all, settings.visibility_timeout + 5, what="survivor restarting the work"
    )
    recovery = asyncio.get_running_loop().time() - killed_at
    assert recovery <= settings.visibility_timeout + 1.0, recovery

    async def all_succeeded() -> bool:
        for inv in ids:
            async with http.get(f"{gw.url}/invocations/{inv}") as r:
                if (await r.json())["status"] != "succeeded":
                    return False
        return True

    await wait_until(all_succeeded, 15, interval=0.2, what="all 200 succeeded")
    done = {r[0] for r in executions(Path(probe_env["PROBE_FILE"]))}
    assert done == set(ids)


async def _runners(redis: Redis, keys: Keys, n: int) -> bool:
    return int(await redis.scard(keys.runners)) >= n


async def test_long_invocation_with_live_runner_runs_exactly_once(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
    probe_env: dict[str, str],
) -> None:
    write_probe(settings.functions_dir)
    gw = await start_stack(settings, tmp_path, procs, http, "probe", runners=2, env=probe_env)
    long = settings.visibility_timeout * 3
    async with http.post(f"{gw.url}/invoke/probe?wait={long + 5}", json={"sleep": long}) as r:
        body = await r.json()
    assert body["status"] == "succeeded", body
    assert len(executions(Path(probe_env["PROBE_FILE"]))) == 1


async def test_delay_starts_on_time_by_redis_clock(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
    probe_env: dict[str, str],
) -> None:
    write_probe(settings.functions_dir)
    gw = await start_stack(settings, tmp_path, procs, http, "probe", env=probe_env)
    ids = []
    for _ in range(5):
        async with http.post(f"{gw.url}/invoke/probe?delay=2", json={}) as r:
            assert r.status == 202
            body = await r.json()
            assert body["status"] == "scheduled"
            ids.append(body["id"])
    results = {}
    for inv in ids:
        async with http.get(f"{gw.url}/invocations/{inv}?wait=10") as r:
            body = await r.json()
        assert body["status"] == "succeeded", body
        results[inv] = body
    for inv, body in results.items():
        lateness = body["result"]["started"] - body["created_at"] - 2000
        assert 0 <= lateness <= 100, (inv, lateness)


async def test_always_failing_handler_retries_with_growing_gaps_then_dead_letters(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    http: aiohttp.ClientSession,
    redis: Redis,
    probe_env: dict[str, str],
) -> None:
    write_probe(settings.functions_dir, retries=3, backoff=0.2)
    gw = await start_stack(settings, tmp_path, procs, http, "probe", env=probe_env)
    async with http.post(f"{gw.url}/invoke/probe?wait=15", json={"raise": True}) as r:
        body = await r.json()
    inv = body["id"]
    assert body["status"] == "dead", body
    assert body["error"]["type"] == "RuntimeError"
    runs = [r for r in executions(Path(probe_env["PROBE_FILE"])) if r[0] == inv]
    assert [r[1] for r in runs] == [1, 2, 3, 4]  # retry count + 1
    gaps = [b[2] - a[2] for a, b in itertools.pairwise(runs)]
    for k, gap in enumerate(gaps):
        step = 200 * 2**k
        assert step / 2 <= gap <= step + 150, (k, gap, gaps)  # equal jitter bounds + overhead
    assert gaps[0] < gaps[1] < gaps[2]
    async with http.get(f"{gw.url}/dead-letters?function=probe") as r:
        dead = (await r.json())["dead_letters"]
    assert [d["id"] for d in dead] == [inv]
    assert "probe was told to fail" in dead[0]["error"]["message"]

    async with http.post(f"{gw.url}/dead-letters/{inv}/replay") as r:
        assert r.status == 202, await r.text()
        assert (await r.json())["status"] == "queued"

    async def ran_again() -> bool:
        return len([r for r in executions(Path(probe_env["PROBE_FILE"])) if r[0] == inv]) >= 5

    await wait_until(ran_again, 10, what="replayed invocation runs again")
    replayed = [r for r in executions(Path(probe_env["PROBE_FILE"])) if r[0] == inv]
    assert replayed[4][1] == 1  # a replay starts a fresh attempt budget
