"""Fixtures for the timekeeping tests: timekeepers on the test's namespace, each with a clock
and a connection of its own, stopped at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.rdb import RDB
from streamfn.schedules.store import ScheduleStore
from streamfn.settings import Settings
from streamfn.timekeeping import RedisClock, Timekeeper

StartTimekeeper = Callable[..., Awaitable[Timekeeper]]


@pytest.fixture
def store(redis: Redis, keys: Keys) -> ScheduleStore:
    return ScheduleStore(redis, keys)


@pytest.fixture
def client(redis: Redis, settings: Settings) -> Client:
    return Client(redis, settings)


def timekeeper(redis: Redis, settings: Settings, keys: Keys, max_sleep: float) -> Timekeeper:
    """A timekeeper, not started, with a clock of its own (not measured)."""
    return Timekeeper(RDB(redis, settings), redis, keys, RedisClock(redis), max_sleep=max_sleep)


@pytest.fixture
async def start_timekeeper(
    settings: Settings, keys: Keys, redis: Redis
) -> AsyncIterator[StartTimekeeper]:
    """Start timekeepers as a runner or ``streamfn scheduler`` would: clock measured first.

    ``max_sleep`` defaults to a minute, far past any test: what they do in time, they do
    because a due time or an announcement woke them, not because they polled.
    """
    started: list[tuple[Timekeeper, Redis]] = []  # ``redis`` drops the keys after these stop

    async def start(*, max_sleep: float = 60.0, watch: list[str] | None = None) -> Timekeeper:
        own = make_redis(settings)
        keeper = timekeeper(own, settings, keys, max_sleep)
        started.append((keeper, own))
        if watch is not None:
            keeper.watch(watch)
        await keeper.clock.measure()
        await keeper.start()
        return keeper

    yield start
    for keeper, own in started:
        await keeper.stop()
        await own.aclose()
