"""Fixtures shared by the end-to-end tests: the processes a test starts, and an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.launch import Child
from streamfn.settings import Settings


@pytest.fixture
async def procs() -> AsyncIterator[list[Child]]:
    """Append every process the test starts; all are stopped (by pid) at teardown."""
    started: list[Child] = []
    yield started
    for p in started:
        p.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(redis: Redis, settings: Settings) -> Client:
    """A Python client of the test's namespace: reads what the processes wrote to Redis."""
    return Client(redis, settings)
