"""POST /functions/{fn}/pause and /resume over a real gateway and Redis: the state in Redis,
what GET /functions and GET /functions/{fn} show, invocations still accepted, and the 4xx."""

from __future__ import annotations

from typing import Any

import msgspec
from redis.asyncio import Redis

from streamfn import codec
from streamfn.gateway.function_models import PauseState
from streamfn.keys import Keys
from tests.gateway.conftest import Client, refresh
from tests.gateway.test_functions import by_name, detail, gone_runner, listing
from tests.gateway.test_invoke import error_of


async def post(client: Client, path: str) -> dict[str, Any]:
    response = await client.post(path)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    msgspec.convert(body, PauseState)
    return body


async def test_pause_is_stored_shown_and_invocations_are_still_accepted(
    client: Client, redis: Redis, keys: Keys
) -> None:
    paused = await post(client, "/functions/echo/pause")
    assert paused["name"] == "echo" and paused["paused"] is True
    stored = codec.loads(await redis.hget(keys.paused, "echo"))
    assert stored == {"at": paused["paused_at"]}
    (seconds, micros) = await redis.time()
    assert 0 <= seconds * 1000 + micros // 1000 - paused["paused_at"] < 5000, "Redis clock"

    rows = by_name((await listing(client))["functions"])
    assert (rows["echo"]["paused"], rows["echo"]["paused_at"]) == (True, paused["paused_at"])
    assert rows["slow"]["paused"] is False and "paused_at" not in rows["slow"]
    echo = await detail(client, "echo")
    assert (echo["paused"], echo["paused_at"]) == (True, paused["paused_at"])

    response = await client.post("/invoke/echo", json={"n": 1})
    assert response.status == 202
    assert (await response.json())["status"] == "queued"
    assert (await detail(client, "echo"))["queued"] == 1


async def test_pausing_twice_keeps_the_first_time_and_resume_clears_it(
    client: Client, redis: Redis, keys: Keys
) -> None:
    first = await post(client, "/functions/echo/pause")
    again = await post(client, "/functions/echo/pause")
    assert again["paused_at"] == first["paused_at"]
    resumed = await post(client, "/functions/echo/resume")
    assert resumed == {"name": "echo", "paused": False}
    assert await redis.hget(keys.paused, "echo") is None
    assert by_name((await listing(client))["functions"])["echo"]["paused"] is False
    assert (await detail(client, "echo"))["paused"] is False
    assert await post(client, "/functions/echo/resume") == resumed, "resuming is idempotent"


async def test_a_paused_function_that_was_removed_can_still_be_resumed(
    client: Client, redis: Redis, keys: Keys
) -> None:
    await post(client, "/functions/echo/pause")
    await gone_runner(redis, keys, "echo")
    assert client.app is not None
    await refresh(client.app)
    assert (await client.delete("/functions/echo")).status == 200
    status, code, _ = await error_of(await client.post("/functions/echo/pause"))
    assert (status, code) == (404, "unknown_function")
    assert (await post(client, "/functions/echo/resume"))["paused"] is False
    assert await redis.hget(keys.paused, "echo") is None


async def test_unknown_invalid_and_extra_parameters_are_4xx(client: Client, redis: Redis) -> None:
    for action in ("pause", "resume"):
        status, code, message = await error_of(await client.post(f"/functions/nope/{action}"))
        assert (status, code) == (404, "unknown_function"), action
        assert "nope" in message
        status, code, _ = await error_of(await client.post(f"/functions/Nope/{action}"))
        assert (status, code) == (400, "invalid_function_name")
        status, code, _ = await error_of(await client.post(f"/functions/echo/{action}?x=1"))
        assert (status, code) == (400, "invalid_parameter")
    status, _, _ = await error_of(await client.get("/functions/echo/pause"))
    assert status == 405
