"""POST /invoke with Idempotency-Key: a repeat returns the first invocation, run once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.settings import Settings
from tests.gateway.conftest import Client, serving
from tests.gateway.fake_runner import FakeRunner
from tests.support.procs import wait_until


async def test_repeat_returns_the_same_invocation(client: Client, redis: Redis, keys: Keys) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await client.post("/invoke/echo", json={"n": 1}, headers=headers)
    second = await client.post("/invoke/echo", json={"n": 2}, headers=headers)
    assert first.status == second.status == 202
    a, b = await first.json(), await second.json()
    assert a["id"] == b["id"]
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == f"/invocations/{a['id']}"
    assert await redis.xlen(keys.stream("echo")) == 1  # executed once
    assert await redis.hget(keys.invocation("echo", a["id"]), "payload") == b'{"n": 1}'


async def test_repeat_shows_the_current_status(client: Client, runner: FakeRunner) -> None:
    headers = {"Idempotency-Key": "k"}
    first = await (await client.post("/invoke/echo", headers=headers)).json()
    assert await runner.run_once("echo") == 1
    again = await client.post("/invoke/echo", headers=headers)
    assert again.status == 202
    assert await again.json() == {"id": first["id"], "status": "succeeded"}


async def test_keys_are_per_function_and_per_value(client: Client) -> None:
    ids = set()
    for fn, key in [("echo", "a"), ("echo", "b"), ("slow", "a")]:
        response = await client.post(f"/invoke/{fn}", headers={"Idempotency-Key": key})
        ids.add((await response.json())["id"])
    assert len(ids) == 3


async def test_concurrent_repeats_create_one_invocation(
    client: Client, redis: Redis, keys: Keys
) -> None:
    headers = {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *(client.post("/invoke/echo", json=i, headers=headers) for i in range(50))
    )
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 1
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == 49
    assert await redis.xlen(keys.stream("echo")) == 1


async def test_repeat_with_wait_waits_on_the_first(client: Client, runner: FakeRunner) -> None:
    headers = {"Idempotency-Key": "waited"}
    first = await (await client.post("/invoke/echo", json=5, headers=headers)).json()

    async def finish_soon() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not await runner.run_once("echo"):
            pass

    task = asyncio.create_task(finish_soon())
    again = await client.post("/invoke/echo?wait=5", json=6, headers=headers)
    await task
    assert again.status == 200
    body = await again.json()
    assert body["id"] == first["id"]
    assert body["result"] == {"echo": 5}
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_first_call_with_wait_then_repeat(client: Client, runner: FakeRunner) -> None:
    runner.start("echo")
    headers = {"Idempotency-Key": "both"}
    first = await client.post("/invoke/echo?wait=5", json="x", headers=headers)
    again = await client.post("/invoke/echo?wait=5", json="y", headers=headers)
    assert first.status == again.status == 200
    a, b = await first.json(), await again.json()
    assert a == b
    assert b["result"] == {"echo": "x"}


@pytest.fixture
async def short_ttl(settings: Settings, known: tuple[str, ...]) -> AsyncIterator[Client]:
    async with serving(replace(settings, idempotency_ttl=0.3)) as client:
        yield client


async def test_key_is_forgotten_after_the_ttl(short_ttl: Client) -> None:
    headers = {"Idempotency-Key": "brief"}
    first = (await (await short_ttl.post("/invoke/echo", headers=headers)).json())["id"]
    ids = []

    async def forgotten() -> bool:
        response = await short_ttl.post("/invoke/echo", headers=headers)
        ids.append((await response.json())["id"])
        return response.headers.get("Idempotent-Replayed") != "true"

    await wait_until(forgotten, 5, what="the Idempotency-Key to expire")
    assert ids[-1] != first
    assert set(ids[:-1]) <= {first}
