"""Clients from settings: a redis+sentinel:// URL reaches the master through the Sentinels and
follows it through a failover (real master, replica and sentinels, stopped by pid)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from streamfn import resp
from streamfn.connection import make_redis
from streamfn.launch import ping
from streamfn.launch.sentinel import PrivateSentinel
from streamfn.settings import DEFAULTS, Settings


@pytest.fixture
def deployment() -> Iterator[PrivateSentinel]:
    with PrivateSentinel(replicas=1, sentinels=3) as started:
        yield started


def _settings(deployment: PrivateSentinel) -> Settings:
    return replace(DEFAULTS, redis_url=deployment.url)


async def _plant_stale_connection(client: Redis, port: int) -> None:
    """Leave an idle pooled connection on ``port``, as if its master had been demoted."""
    pool = client.connection_pool
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]
    await conn.disconnect()
    await conn.connect_to(("127.0.0.1", port))  # type: ignore[attr-defined]
    await pool.release(conn)


async def test_a_demoted_master_s_connection_is_dropped_and_the_master_found(
    deployment: PrivateSentinel,
) -> None:
    assert ping(deployment.url)  # the synchronous probe `streamfn dev` uses reads the form too
    client = make_redis(_settings(deployment), pool_timeout=2.0)
    replica = deployment.replicas[0].port
    try:
        await client.set("k", 1)
        await _plant_stale_connection(client, replica)
        await client.set("k", 2)  # READONLY -> ConnectionError -> retried on the master
        assert await client.get("k") == b"2"
        await _plant_stale_connection(client, replica)
        with pytest.raises(RedisConnectionError):  # the pipelined path does not retry...
            await resp.execute(client, resp.encode(("SET", "k", "3")), 1)
        assert await resp.execute(client, resp.encode(("SET", "k", "3")), 1) == [b"OK"]
        ports = {c.port for c in client.connection_pool._available_connections}  # type: ignore[attr-defined]
        assert ports == {deployment.master_port()}  # ...but it drops the stale connection
    finally:
        await client.aclose()


async def test_the_same_client_reaches_the_new_master_after_kill_9(
    deployment: PrivateSentinel,
) -> None:
    client = make_redis(_settings(deployment))
    try:
        await client.set("before", 1)
        assert await client.wait(1, 2000) == 1  # replicated (asynchronous replication)
        old = deployment.current_master()
        old.kill()
        began = time.monotonic()
        while time.monotonic() - began < 20:
            try:
                await client.set("after", 1)
                break
            except RedisConnectionError:  # MasterNotFoundError is one: no master yet
                await asyncio.sleep(0.05)
        assert await client.get("after") == b"1"
        assert deployment.master_port() != old.port
        assert await client.get("before") == b"1"  # replicated before the kill
    finally:
        await client.aclose()
