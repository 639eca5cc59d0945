"""The /schedules routes: create, upsert, list, read, replace, delete, pause, resume, and every
mistake answered 400/404 with a message that says why (503 while Redis is down)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.launch import free_port
from streamfn.rdb import RDB
from streamfn.settings import Settings
from streamfn.timekeeping import RedisClock, Timekeeper
from tests.gateway.conftest import Client, serving
from tests.gateway.test_invoke import error_of
from tests.support.procs import wait_until

TICK = {"function": "echo", "cron": "* * * * * *", "payload": {"n": 1}}


async def created(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/schedules", json=body)
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def redis_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_post_creates_with_location_and_fire_state(client: Client, redis: Redis) -> None:
    before = await redis_ms(redis)
    response = await client.post("/schedules", json={**TICK, "timezone": "Europe/Berlin"})
    assert response.status == 201
    body = await response.json()
    assert response.headers["Location"] == f"/schedules/{body['id']}"
    assert body["function"] == "echo"
    assert body["cron"] == "* * * * * *"
    assert body["payload"] == {"n": 1}
    assert body["timezone"] == "Europe/Berlin"
    assert body["misfire"] == "fire_once"
    assert body["state"] == "active"
    assert (body["fire_count"], body["last_fire_at"], body["last_invocation"]) == (0, None, None)
    assert before < body["next_fire_at"] <= before + 2000
    assert body["next_fire_local"].endswith(("+01:00", "+02:00"))  # shown in its zone
    assert body["source"] == "api"


async def test_post_with_id_is_an_upsert(client: Client) -> None:
    body = {"id": "nightly", "function": "echo", "cron": "0 3 * * *"}
    assert (await client.post("/schedules", json=body)).status == 201
    again = await client.post("/schedules", json=body)
    assert again.status == 200  # unchanged
    changed = await client.post("/schedules", json={**body, "cron": "0 4 * * *"})
    assert changed.status == 200
    assert (await changed.json())["cron"] == "0 4 * * *"
    listed = await (await client.get("/schedules")).json()
    assert [s["id"] for s in listed["schedules"]] == ["nightly"]


async def test_catch_up_and_every_fields_are_shown(client: Client) -> None:
    body = await created(
        client,
        {"function": "echo", "every": "30s", "misfire": "catch_up", "catch_up_max": 5, "limit": 3},
    )
    assert (body["every"], body["misfire"], body["catch_up_max"], body["limit"]) == (
        "30s",
        "catch_up",
        5,
        3,
    )
    assert "cron" not in body


async def test_list_all_and_by_function(client: Client, redis: Redis, keys: Keys) -> None:
    a = await created(client, {**TICK, "id": "b-echo"})
    b = await created(client, {"id": "a-slow", "function": "slow", "every": "1m"})
    everything = await (await client.get("/schedules")).json()
    assert [s["id"] for s in everything["schedules"]] == [b["id"], a["id"]]  # by id
    only = await (await client.get("/schedules?function=echo")).json()
    assert [s["id"] for s in only["schedules"]] == [a["id"]]
    none = await (await client.get("/schedules?function=nothing_here")).json()
    assert none == {"schedules": []}


async def test_get_put_delete_one(client: Client) -> None:
    assert (await client.get("/schedules/tick")).status == 404
    response = await client.put("/schedules/tick", json=TICK)
    assert response.status == 201
    got = await (await client.get("/schedules/tick")).json()
    assert got["id"] == "tick" and got["cron"] == "* * * * * *"
    response = await client.put("/schedules/tick", json={"function": "echo", "every": "5m"})
    assert response.status == 200
    got = await (await client.get("/schedules/tick")).json()
    assert got["every"] == "5m" and "cron" not in got
    response = await client.delete("/schedules/tick")
    assert response.status == 200
    assert await response.json() == {"id": "tick", "status": "deleted"}
    status, code, message = await error_of(await client.get("/schedules/tick"))
    assert (status, code) == (404, "not_found") and "tick" in message
    assert (await client.delete("/schedules/tick")).status == 404


async def test_pause_and_resume(client: Client) -> None:
    await created(client, {**TICK, "id": "p"})
    paused = await (await client.post("/schedules/p/pause")).json()
    assert (paused["state"], paused["paused"], paused["next_fire_at"]) == ("paused", True, None)
    listed = await (await client.get("/schedules")).json()
    assert listed["schedules"][0]["state"] == "paused"
    response = await client.post("/schedules/p/resume")
    assert response.status == 200
    resumed = await response.json()
    assert (resumed["state"], resumed["paused"]) == ("active", False)
    assert resumed["next_fire_at"] is not None
    for action in ("pause", "resume"):
        assert (await client.post(f"/schedules/missing/{action}")).status == 404


async def test_shows_last_fire_next_fire_and_fire_count(
    client: Client, redis: Redis, keys: Keys, settings: Settings
) -> None:
    await created(client, {**TICK, "id": "shown"})
    clock = RedisClock(redis)
    scheduler = Timekeeper(RDB(redis, settings), redis, keys, clock, max_sleep=60)
    await scheduler.start()
    try:

        async def fired_twice() -> bool:
            body = await (await client.get("/schedules/shown")).json()
            return bool(body["fire_count"] >= 2)

        await wait_until(fired_twice, 10, what="two fires")
    finally:
        await scheduler.stop()
    body = await (await client.get("/schedules/shown")).json()
    assert body["last_fire_at"] % 1000 == 0
    assert body["next_fire_at"] > body["last_fire_at"]
    assert body["last_invocation"].startswith("echo.")
    record = await (await client.get(f"/invocations/{body['last_invocation']}")).json()
    assert record["status"] == "queued"  # an ordinary invocation (no runner in this test)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"function": "echo", "cron": "* * *"}, "3 fields"),
        ({"function": "echo", "cron": "61 * * * *"}, "not valid"),
        ({"function": "echo", "cron": "@sometimes"}, "alias"),
        ({"function": "echo", "cron": "* * * * *", "timezone": "Mars/Olympus"}, "IANA"),
        ({"function": "echo", "cron": "* * * * *", "timezone": "Europe"}, "IANA"),  # a dir
        ({"function": "echo", "cron": "* * * * *", "timezone": "x" * 300}, "IANA"),
        ({"function": "echo", "every": "500ms"}, "not an interval"),
        ({"function": "echo", "every": "0s"}, "under 1 second"),
        (
            {"function": "echo", "every": "1m", "start_at": 2_000_000, "end_at": 1_000_000},
            "before start_at",
        ),
        ({"function": "echo", "every": "1s", "start_at": 2**62}, "before the year 3000"),
        ({"function": "echo", "cron": "* * * * *", "end_at": "9999-12-31T23:59:59"}, "3000"),
        ({"function": "echo", "every": "1s", "start_at": "tomorrow"}, "not a time"),
        ({"function": "echo"}, "exactly one of 'cron'"),
        ({"function": "echo", "cron": "* * * * *", "every": "1m"}, "exactly one"),
        ({"function": "echo", "cron": "* * * * *", "misfire": "later"}, "not a policy"),
        (
            {"function": "echo", "cron": "* * * * *", "misfire": "catch_up", "catch_up_max": 0},
            "catch_up_max 0",
        ),
        ({"function": "echo", "cron": "* * * * *", "limit": 0}, "at least 1"),
        ({"function": "echo", "cron": "* * * * *", "croon": "x"}, "unknown field"),
        ({"function": "echo", "cron": "* * * * *", "id": "file.echo.1"}, "reserved"),
        ({"function": "echo", "cron": "* * * * *", "id": "-bad"}, "not valid"),
        ({"cron": "* * * * *"}, "not a function name"),
        ([1, 2], "JSON object"),
    ],
)
async def test_invalid_definition_is_400_saying_why(client: Client, body: Any, words: str) -> None:
    status, code, message = await error_of(await client.post("/schedules", json=body))
    assert (status, code) == (400, "invalid_schedule"), message
    assert words in message


async def test_invalid_json_and_empty_body(client: Client) -> None:
    status, code, _ = await error_of(await client.post("/schedules", data=b"{nope"))
    assert (status, code) == (400, "invalid_json")
    status, code, message = await error_of(await client.post("/schedules", data=b""))
    assert (status, code) == (400, "invalid_schedule") and "cron" in message


async def test_put_validates_like_post(client: Client) -> None:
    response = await client.put("/schedules/x", json={"function": "echo", "every": "0s"})
    status, code, message = await error_of(response)
    assert (status, code) == (400, "invalid_schedule") and "1 second" in message
    response = await client.put("/schedules/x", json={**TICK, "id": "y"})
    status, code, message = await error_of(response)
    assert (status, code) == (400, "invalid_schedule") and "differs" in message


async def test_unknown_function_is_404_like_invoke(client: Client) -> None:
    body = {"function": "nothing_here", "cron": "* * * * *"}
    status, code, message = await error_of(await client.post("/schedules", json=body))
    assert (status, code) == (404, "unknown_function")
    assert "nothing_here" in message and "functions" in message
    status, code, _ = await error_of(await client.put("/schedules/z", json=body))
    assert (status, code) == (404, "unknown_function")
    bad = {"function": "Not-A-Name", "cron": "* * * * *"}
    status, code, _ = await error_of(await client.post("/schedules", json=bad))
    assert (status, code) == (400, "invalid_function_name")
    status, code, _ = await error_of(await client.get("/schedules?function=Bad"))
    assert (status, code) == (400, "invalid_function_name")


@pytest.mark.parametrize("sid", ["-x", "a" * 129, "sp%20ace", "semi;colon", "%C3%A9"])
async def test_bad_ids_are_400(client: Client, sid: str) -> None:
    for method, path in (
        ("GET", f"/schedules/{sid}"),
        ("PUT", f"/schedules/{sid}"),
        ("DELETE", f"/schedules/{sid}"),
        ("POST", f"/schedules/{sid}/pause"),
        ("POST", f"/schedules/{sid}/resume"),
    ):
        response = await client.request(method, path, json=TICK)
        status, code, message = await error_of(response)
        assert (status, code) == (400, "invalid_schedule_id"), (method, path)
        assert "letters, digits" in message


async def test_file_ids_are_read_only_through_put(client: Client) -> None:
    response = await client.put("/schedules/file.echo.1", json=TICK)
    status, code, message = await error_of(response)
    assert (status, code) == (400, "invalid_schedule_id")
    assert "reserved" in message and "edit the file" in message
    assert (await client.get("/schedules/file.echo.1")).status == 404


async def test_unknown_query_parameters_are_400(client: Client) -> None:
    status, code, message = await error_of(await client.get("/schedules?fn=echo"))
    assert (status, code) == (400, "invalid_parameter") and "fn" in message
    status, _, _ = await error_of(await client.post("/schedules?wait=1", json=TICK))
    assert status == 400


async def test_redis_down_is_503_on_every_schedule_route(settings: Settings) -> None:
    down = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with serving(down) as client:
        for method, path in (
            ("POST", "/schedules"),
            ("GET", "/schedules"),
            ("GET", "/schedules/a"),
            ("PUT", "/schedules/a"),
            ("DELETE", "/schedules/a"),
            ("POST", "/schedules/a/pause"),
            ("POST", "/schedules/a/resume"),
        ):
            response = await client.request(method, path, json=TICK)
            status, code, _ = await error_of(response)
            assert (status, code) == (503, "redis_unavailable"), (method, path)
