"""Fixtures for the schedule tests: a store on the test's namespace."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.schedules.store import ScheduleStore


@pytest.fixture
def store(redis: Redis, keys: Keys) -> ScheduleStore:
    return ScheduleStore(redis, keys)
