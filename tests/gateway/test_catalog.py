"""CatalogCache: the in-memory set of invokable functions and its health."""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from streamfn.connection import make_redis
from streamfn.errors import ErrorCode
from streamfn.gateway.catalog import CatalogCache
from streamfn.keys import Keys
from streamfn.launch import free_port
from streamfn.registry import Catalog, withdraw
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

        async def gone() -> bool:
            return not cache.known

        await wait_until(gone, 3, what="the withdrawal")
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
