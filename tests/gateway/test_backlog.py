"""POST /invoke/{fn} past STREAMFN_MAX_BACKLOG: 429 with Retry-After, and nothing enqueued."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import ClientResponse
from redis.asyncio import Redis

from streamfn.gateway.state import CLIENT
from streamfn.keys import Keys
from streamfn.settings import Settings
from tests.gateway.conftest import Client, serving
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_metrics import scrape, values

CAP = 3


@pytest.fixture
async def capped(settings: Settings, known: tuple[str, ...]) -> AsyncIterator[Client]:
    """A gateway whose functions each accept at most ``CAP`` queued + running invocations."""
    async with serving(replace(settings, max_backlog=CAP)) as client:
        yield client


async def fill(client: Client, fn: str = "echo") -> list[str]:
    ids = []
    for _ in range(CAP):
        response = await client.post(f"/invoke/{fn}")
        assert response.status == 202
        ids.append((await response.json())["id"])
    return ids


async def invocation_keys(redis: Redis, keys: Keys, fn: str = "echo") -> set[bytes]:
    return {k async for k in redis.scan_iter(match=keys.invocation(fn, "*"), count=1000)}


async def assert_backlog_full(response: ClientResponse) -> dict[str, Any]:
    assert response.status == 429
    assert response.headers["Retry-After"].isdigit()
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    error: dict[str, Any] = (await response.json())["error"]
    assert error["code"] == "backlog_full"
    assert "STREAMFN_MAX_BACKLOG" in error["message"]
    return error


async def test_full_backlog_is_429_with_retry_after_and_enqueues_nothing(
    capped: Client, redis: Redis, keys: Keys
) -> None:
    ids = await fill(capped)
    stream_before = await redis.xrange(keys.stream("echo"))
    records_before = await invocation_keys(redis, keys)

    response = await capped.post("/invoke/echo", data=b'{"a":1}')

    error = await assert_backlog_full(response)
    assert (error["function"], error["backlog"], error["cap"]) == ("echo", CAP, CAP)
    assert "Location" not in response.headers
    assert await redis.xrange(keys.stream("echo")) == stream_before
    assert await invocation_keys(redis, keys) == records_before
    assert len(records_before) == len(ids)


async def test_the_cap_is_per_function(capped: Client) -> None:
    await fill(capped, "echo")
    assert (await capped.post("/invoke/slow")).status == 202


async def test_wait_requests_are_refused_too_and_hold_no_waiter(
    capped: Client, redis: Redis, keys: Keys
) -> None:
    await fill(capped)
    records_before = await invocation_keys(redis, keys)

    await assert_backlog_full(await capped.post("/invoke/echo?wait=5"))

    assert capped.app is not None
    assert capped.app[CLIENT].waiters.waiting == 0
    assert await invocation_keys(redis, keys) == records_before


async def test_delayed_invocations_are_accepted_while_full(capped: Client) -> None:
    await fill(capped)
    response = await capped.post("/invoke/echo?delay=60")
    assert response.status == 202
    assert (await response.json())["status"] == "scheduled"


async def test_accepted_again_once_the_backlog_drains(
    capped: Client, runner: FakeRunner, redis: Redis, keys: Keys
) -> None:
    await fill(capped)
    refused = await capped.post("/invoke/echo", headers={"Idempotency-Key": "order-7"})
    await assert_backlog_full(refused)

    assert await runner.run_once("echo") == CAP

    # The refused attempt did not burn its Idempotency-Key: the retry is a new invocation.
    retried = await capped.post("/invoke/echo", headers={"Idempotency-Key": "order-7"})
    assert retried.status == 202
    assert "Idempotent-Replayed" not in retried.headers
    assert await redis.xlen(keys.stream("echo")) == 1


async def test_refusals_are_counted_as_backlog_full(capped: Client) -> None:
    await fill(capped)
    for _ in range(2):
        assert (await capped.post("/invoke/echo")).status == 429
    accepted = values(await scrape(capped), "invocations_accepted_total")
    by_key = {(dict(k)["function"], dict(k)["outcome"]): v for k, v in accepted.items()}
    assert by_key == {("echo", "queued"): CAP, ("echo", "backlog_full"): 2}
    requests = values(await scrape(capped), "http_requests_total")
    key = frozenset({("route", "/invoke/{fn}"), ("method", "POST"), ("status", "429")})
    assert requests[key] == 2


async def test_no_cap_by_default(client: Client, redis: Redis, keys: Keys) -> None:
    for _ in range(20):
        assert (await client.post("/invoke/echo")).status == 202
    assert await redis.xlen(keys.stream("echo")) == 20
