"""GET /healthz, and 503 (never 500) from every Redis-backed route while Redis cannot serve."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.launch import PrivateRedis, free_port
from streamfn.settings import Settings
from tests.gateway.conftest import Client, make_known, serving
from tests.gateway.test_invocations import MISSING
from tests.gateway.test_invoke import error_of
from tests.support.procs import wait_until

REDIS_ROUTES = [
    ("GET", "/healthz"),
    ("POST", "/invoke/echo"),
    ("POST", "/invoke/echo?wait=1"),
    ("GET", f"/invocations/{MISSING}"),
    ("GET", f"/invocations/{MISSING}?wait=1"),
    ("DELETE", f"/invocations/{MISSING}"),
    ("GET", "/dead-letters?function=echo"),
    ("POST", f"/dead-letters/{MISSING}/replay"),
    ("GET", "/runners"),
    ("GET", "/functions/echo"),
    ("POST", "/functions/echo/pause"),
    ("POST", "/functions/echo/resume"),
    ("GET", "/functions"),
]


async def test_healthz_ok(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


@pytest.mark.parametrize("scheme", ["redis", "redis+sentinel"])
async def test_nothing_listening_is_503_everywhere(settings: Settings, scheme: str) -> None:
    # redis+sentinel: no Sentinel answers, so no master is known (MasterNotFoundError)
    where = f"127.0.0.1:{free_port()}" + ("/mymaster/0" if "sentinel" in scheme else "/0")
    down = replace(settings, redis_url=f"{scheme}://{where}")
    async with serving(down) as client:
        for method, path in REDIS_ROUTES:
            response = await client.request(method, path, json={"x": 1})
            status, code, message = await error_of(response)
            assert (status, code) == (503, "redis_unavailable"), (method, path)
            assert "retry" in message
            assert "Traceback" not in message
        assert (await client.get("/metrics")).status == 200
        assert (await client.get("/openapi.json")).status == 200
        # Client mistakes stay 4xx even while Redis is down.
        assert (await client.post("/invoke/Bad")).status == 400
        assert (await client.get("/invocations/nope")).status == 400


@pytest.fixture
def own_redis() -> Iterator[PrivateRedis]:
    """A private redis-server this test may kill or demote."""
    with PrivateRedis() as server:
        yield server


async def own_gateway_settings(settings: Settings, server: PrivateRedis) -> tuple[Settings, Redis]:
    own = replace(settings, redis_url=server.url)
    redis = make_redis(own)
    await make_known(redis, Keys(own.namespace), "echo")
    return own, redis


async def test_redis_dying_after_start_is_503(settings: Settings, own_redis: PrivateRedis) -> None:
    own, redis = await own_gateway_settings(settings, own_redis)
    try:
        async with serving(own) as client:
            assert (await client.post("/invoke/echo")).status == 202
            own_redis.kill()
            for method, path in REDIS_ROUTES[:-1]:
                response = await client.request(method, path)
                assert (await error_of(response))[:2] == (503, "redis_unavailable"), path

            async def catalog_noticed() -> bool:
                return (await client.get("/functions")).status == 503

            # /functions serves the cached catalog until the next refresh finds Redis gone.
            await wait_until(catalog_noticed, 3, what="the catalog refresher to notice")
    finally:
        await redis.aclose()


async def test_read_only_replica_is_503(settings: Settings, own_redis: PrivateRedis) -> None:
    """A failed-over primary turned replica answers READONLY to every write."""
    own, redis = await own_gateway_settings(settings, own_redis)
    try:
        async with serving(own) as client:
            await redis.replicaof("127.0.0.1", free_port())
            response = await client.post("/invoke/echo")
            assert (await error_of(response))[:2] == (503, "redis_unavailable")
            assert (await client.get(f"/invocations/{MISSING}")).status == 404  # reads still work
    finally:
        await redis.replicaof("NO", "ONE")
        await redis.aclose()


async def test_replica_without_its_master_is_503(
    settings: Settings, own_redis: PrivateRedis
) -> None:
    """With replica-serve-stale-data off, a replica cut from its master answers MASTERDOWN."""
    own, redis = await own_gateway_settings(settings, own_redis)
    try:
        async with serving(own) as client:
            await redis.config_set("replica-serve-stale-data", "no")
            await redis.replicaof("127.0.0.1", free_port())
            for method, path in [("POST", "/invoke/echo"), ("GET", f"/invocations/{MISSING}")]:
                response = await client.request(method, path)
                assert (await error_of(response))[:2] == (503, "redis_unavailable"), path
    finally:
        await redis.replicaof("NO", "ONE")
        await redis.aclose()
