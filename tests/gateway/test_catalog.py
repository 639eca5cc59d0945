"""CatalogCache: the in-memory set of invokable (deployed) functions and its health."""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from streamfn.connection import make_redis
from streamfn.errors import ErrorCode
from streamfn.gateway.catalog import CatalogCache
from streamfn.keys import Keys
from streamfn.launch import free_port
from streamfn.registry import Catalog, RunnerReport, publish, withdraw
from streamfn.settings import Settings
from tests.gateway.conftest import make_known
from tests.support.procs import wait_until


async def test_start_reads_at_once(redis: Redis, keys: Keys) -> None:
    await make_known(redis, keys, "echo", "slow")
    cache = CatalogCache(redis, keys, interval=60)
    await cache.start()
    try:
        assert cache.healthy
        assert cache.known == {"echo", "slow"}
        assert cache.runners == 1
        assert cache.label("echo") == "echo"
        assert cache.label("anything") == "unknown"
    finally:
        await cache.stop()


async def test_refreshes_in_the_background(redis: Redis, keys: Keys) -> None:
    seen: list[Catalog] = []

    async def on_refresh(catalog: Catalog) -> None:
        seen.append(catalog)

    cache = CatalogCache(redis, keys, interval=0.05, on_refresh=on_refresh)
    await cache.start()
    try:
        assert cache.known == frozenset()
        await make_known(redis, keys, "late")

        async def known() -> bool:
            return "late" in cache.known

        await wait_until(known, 3, what="the background refresh")
        await withdraw(redis, keys, "r1")

        async def no_runner() -> bool:
            return cache.runners == 0

        await wait_until(no_runner, 3, what="the withdrawal")
        assert "late" in cache.known, "a runner going away leaves its functions deployed"
        assert cache.functions["late"]["state"] == "no_runner"
        assert len(seen) >= 3
    finally:
        await cache.stop()


async def test_unreachable_redis_is_unhealthy_and_503(settings: Settings) -> None:
    down = make_redis(replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    cache = CatalogCache(down, Keys.of(settings), interval=60)
    try:
        await cache.start()  # must not raise: the gateway starts without Redis
        assert not cache.healthy
        assert cache.unknown("echo").code is ErrorCode.REDIS_UNAVAILABLE
    finally:
        await cache.stop()
        await down.aclose()


async def test_unknown_explains_how_to_add(redis: Redis, keys: Keys) -> None:
    await make_known(redis, keys, "echo")
    cache = CatalogCache(redis, keys, functions_dir="fns")
    await cache.refresh()
    error = cache.unknown("other")
    assert error.code is ErrorCode.UNKNOWN_FUNCTION
    assert "fns/other.py" in error.message


async def test_deployed_stays_invokable_until_the_retention_runs_out(
    redis: Redis, keys: Keys
) -> None:
    await make_known(redis, keys, "echo")
    await withdraw(redis, keys, "r1", {"echo": {"timeout": 1.0}}, now_ms=await _redis_ms(redis))
    cache = CatalogCache(redis, keys, retention_s=0.5)
    await cache.refresh()
    assert cache.known == {"echo"} and cache.runners == 0
    entry = cache.functions["echo"]
    assert entry["retained_until"] == entry["last_seen_at"] + 500

    async def expired() -> bool:
        await cache.refresh()
        return not cache.known

    await wait_until(expired, 5, what="the retention to run out")
    assert cache.removed["echo"]["reason"] == "retention_expired"
    message = cache.unknown("echo").message
    assert "STREAMFN_DEPLOYED_RETENTION (0.5 s) ran out" in message
    assert "queued work is kept" in message


async def test_a_file_removed_from_every_live_runner_is_removed(redis: Redis, keys: Keys) -> None:
    await make_known(redis, keys, "echo", runner_id="r1")
    await make_known(redis, keys, "echo", runner_id="r2")
    gone = RunnerReport("r1", {}, {}, removed={"echo": 1_000})
    await publish(redis, keys, gone, ttl_s=60, now_ms=1_000)
    cache = CatalogCache(redis, keys, functions_dir="fns")
    await cache.refresh()
    assert cache.functions["echo"]["runners"] == 1, "r2 still has it: still live"
    await publish(redis, keys, RunnerReport("r2", {}, {}, removed={"echo": 2_000}), 60, now_ms=2)
    await cache.refresh()
    assert "echo" not in cache.known
    assert cache.removed["echo"]["reason"] == "file_removed"
    message = cache.unknown("echo").message
    assert "its file left the functions directory of every runner" in message
    assert "fns/echo.py" in message
    await make_known(redis, keys, "echo", runner_id="r3")
    await cache.refresh()
    assert cache.functions["echo"]["state"] == "live", "loading it again deploys it again"


async def _redis_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000
