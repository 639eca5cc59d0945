"""Gateway fixtures: a gateway on a real loopback port, "known" functions, a fake runner.

Functions are made known the way runners do it, by publishing a ``RunnerReport``; runner
completions are simulated with XREADGROUP + ``RDB.finish_many`` (the runner package is not
used, so these tests exercise only the gateway and the scripts behind it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from streamfn.gateway.app import create_app
from streamfn.gateway.state import CATALOG
from streamfn.keys import Keys
from streamfn.registry import RunnerReport, publish
from streamfn.settings import Settings
from tests.gateway.fake_runner import FakeRunner

KNOWN = ("echo", "slow")
POLICY = {"timeout": 60.0, "retries": 3, "kind": "async"}


async def make_known(redis: Redis, keys: Keys, *names: str, runner_id: str = "r1") -> None:
    """Publish a runner report listing ``names`` (what a live runner would do)."""
    report = RunnerReport(runner_id, {n: dict(POLICY) for n in names}, {}, "test", 1, 10)
    await publish(redis, keys, report, ttl_s=60, now_ms=int(time.time() * 1000))


async def refresh(app: web.Application) -> None:
    """Re-read the catalog now instead of waiting for the next refresh tick."""
    await app[CATALOG].refresh()


Client = TestClient[web.Request, web.Application]


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Client]:
    """A gateway for ``settings`` on 127.0.0.1:<free port>, and an HTTP client of it."""
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as test_client:
        yield test_client


async def raw_request(client: Client, data: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no URL normalisation); returns (status, body)."""
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(data)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await asyncio.wait_for(reader.readexactly(length), 10)
    finally:
        writer.close()
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture
async def known(redis: Redis, keys: Keys) -> tuple[str, ...]:
    await make_known(redis, keys, *KNOWN)
    return KNOWN


@pytest.fixture
async def client(settings: Settings, known: tuple[str, ...]) -> AsyncIterator[Client]:
    """An HTTP client of a gateway (functions ``echo`` and ``slow`` known)."""
    async with serving(settings) as test_client:
        yield test_client


@pytest.fixture
async def runner(redis: Redis, settings: Settings) -> AsyncIterator[FakeRunner]:
    fake = FakeRunner(redis, settings)
    try:
        yield fake
    finally:
        await fake.stop()
