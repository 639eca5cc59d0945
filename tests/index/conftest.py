"""Fixtures for the index tests: a typed script wrapper over the test's namespace."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from streamfn.rdb import RDB
from streamfn.settings import Settings


@pytest.fixture
def rdb(redis: Redis, settings: Settings) -> RDB:
    return RDB(redis, settings)
