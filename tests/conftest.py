"""Shared fixtures: one real redis-server per session, a fresh namespace per test.

Order of preference: ``STREAMFN_TEST_REDIS_URL`` (an existing server or cluster; we never
FLUSHALL it), ``STREAMFN_TEST_CLUSTER=1`` (the cluster tier, ``make test-cluster``: a private
3-master Redis Cluster), testcontainers when a Docker engine is reachable, else a private
``redis-server`` on a free loopback port that we start and stop by pid.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import Keys
from streamfn.launch import PrivateRedis
from streamfn.launch.cluster import PrivateCluster
from streamfn.settings import DEFAULTS, Settings

ROOT = Path(__file__).resolve().parent.parent


CLUSTER_TIER = os.environ.get("STREAMFN_TEST_CLUSTER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not CLUSTER_TIER:
        return
    skip = pytest.mark.skip(reason="one-node-only path; the cluster tier runs the cluster path")
    for item in items:
        if "single_node" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("STREAMFN_TEST_REDIS_URL")
    if url:
        yield url
        return
    if CLUSTER_TIER:
        with PrivateCluster(masters=3) as cluster:
            yield cluster.url
            return
    if docker_reachable():
        try:
            from testcontainers.redis import RedisContainer

            with RedisContainer("redis:7.0") as container:
                host = container.get_container_host_ip()
                port = container.get_exposed_port(6379)
                yield f"redis://{host}:{port}/0"
                return
        except Exception:  # engine present but unusable: fall back to a local server
            pass
    with PrivateRedis() as server:
        yield server.url


@pytest.fixture
def namespace() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def settings(redis_url: str, namespace: str, tmp_path: Path) -> Settings:
    functions = tmp_path / "functions"
    functions.mkdir()
    return replace(
        DEFAULTS,
        redis_url=redis_url,
        namespace=namespace,
        functions_dir=functions,
        visibility_timeout=2.0,
        claim_interval=0.25,
        shutdown_grace=2.0,
        runner_metrics_port=0,
        port=0,
    )


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return Keys.of(settings)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[AnyRedis]:
    client = make_redis(settings)
    try:
        yield client
    finally:
        await _drop_namespace(client, settings.namespace)
        await client.aclose()


async def _drop_namespace(client: AnyRedis, namespace: str) -> None:
    """Delete only this test's keys: never FLUSHALL a server we may not own."""
    for pattern in (f"{{{namespace}:*", f"{namespace}:*"):
        batch: list[bytes] = []
        async for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                await _unlink(client, batch)
                batch.clear()
        if batch:
            await _unlink(client, batch)


async def _unlink(client: AnyRedis, keys: list[bytes]) -> None:
    """One UNLINK per key, pipelined: on a cluster a command may not span slots."""
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.execute_command("UNLINK", key)  # pipe.unlink is a coroutine on a cluster
        await pipe.execute()


def docker_reachable() -> bool:
    if os.environ.get("DOCKER_HOST"):
        return True
    return Path("/var/run/docker.sock").exists()
