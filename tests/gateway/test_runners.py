"""GET /runners over a real gateway and Redis: each live runner's report as an operator reads
it (ages by Redis TIME), and the functions whose pending entries no live runner holds."""

from __future__ import annotations

from typing import Any

import msgspec
from redis.asyncio import Redis

from streamfn.gateway.runner_models import Runners
from streamfn.keys import Keys
from streamfn.registry import Lease, RunnerReport, publish
from tests.gateway.conftest import POLICY, Client, make_known, refresh
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_invoke import error_of


async def runners(client: Client) -> dict[str, Any]:
    response = await client.get("/runners")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    msgspec.convert(body, Runners)  # the shape the OpenAPI document promises
    return body


async def redis_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_each_live_runner_with_its_heartbeat_load_and_oldest_lease(
    client: Client, redis: Redis, keys: Keys
) -> None:
    now = await redis_ms(redis)
    report = RunnerReport(
        "host-7-beef",
        {"echo": dict(POLICY), "slow": dict(POLICY)},
        {},
        host="host",
        pid=7,
        concurrency=50,
        version="9.9.9",
        started_ms=now - 60_000,
        at_ms=now - 2_000,
        in_flight=3,
        oldest_lease=Lease("echo.0123456789abcdef01234567", "echo", now - 12_000),
    )
    await publish(redis, keys, report, ttl_s=60, now_ms=now)
    assert client.app is not None
    await refresh(client.app)
    body = await runners(client)
    assert [r["id"] for r in body["runners"]] == ["host-7-beef", "r1"]
    row = body["runners"][0]
    assert (row["host"], row["pid"], row["version"], row["concurrency"]) == ("host", 7, "9.9.9", 50)
    assert (row["started_at"], row["heartbeat_at"], row["in_flight"]) == (
        now - 60_000,
        now - 2_000,
        3,
    )
    assert 2.0 <= row["heartbeat_age_s"] < 10
    assert row["functions"] == ["echo", "slow"]
    lease = row["oldest_lease"]
    assert (lease["id"], lease["queue"], lease["since"]) == (
        "echo.0123456789abcdef01234567",
        "echo",
        now - 12_000,
    )
    assert 12.0 <= lease["age_s"] < 20
    assert body["runners"][1]["oldest_lease"] is None
    assert body["orphaned"] == []


async def test_entries_held_by_a_consumer_with_no_live_report_are_orphaned(
    client: Client, redis: Redis, keys: Keys, runner: FakeRunner
) -> None:
    for _ in range(3):
        assert (await client.post("/invoke/echo")).status == 202
    assert len(await runner.claim("echo", count=2)) == 2
    assert (await runners(client))["orphaned"] == [{"function": "echo", "entries": 2}]
    await make_known(redis, keys, "echo", runner_id="fake-runner")  # its holder is live
    assert client.app is not None
    await refresh(client.app)
    body = await runners(client)
    assert body["orphaned"] == []
    assert [r["id"] for r in body["runners"]] == ["fake-runner", "r1"]


async def test_runners_takes_no_parameters(client: Client) -> None:
    assert (await error_of(await client.get("/runners?all=1")))[:2] == (400, "invalid_parameter")


async def test_a_report_from_an_older_runner_still_lists(
    client: Client, redis: Redis, keys: Keys
) -> None:
    """During a rolling upgrade a runner may write the report without the new fields."""
    old = b'{"runner":"old-1-0000","functions":{"echo":{}},"errors":{},"host":"h","pid":1}'
    await redis.set(keys.runner("old-1-0000"), old, px=60_000)
    await redis.sadd(keys.runners, "old-1-0000")
    assert client.app is not None
    await refresh(client.app)
    rows = {r["id"]: r for r in (await runners(client))["runners"]}
    row = rows["old-1-0000"]
    assert (row["version"], row["in_flight"], row["paused"], row["oldest_lease"]) == (
        "",
        0,
        [],
        None,
    )
    assert row["functions"] == ["echo"]
