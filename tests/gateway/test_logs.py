"""GET /invocations/{id}/logs: 200 with the attempts' lines (and ?attempt=), 200 with none
for an invocation that logged nothing, 404 for an unknown id, 400 for a malformed one."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from streamfn import invocation_logs
from streamfn.keys import Keys
from streamfn.log_lines import LogLines
from streamfn.settings import Settings
from tests.gateway.conftest import Client
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_invoke import error_of

MISSING = "echo." + "0" * 24


async def invoke(client: Client) -> str:
    response = await client.post("/invoke/echo", json={"v": 1})
    assert response.status == 202
    invocation_id: str = (await response.json())["id"]
    return invocation_id


async def store(
    redis: Redis, settings: Settings, invocation_id: str, attempt: int, *messages: str
) -> None:
    """Write an attempt's lines as the runner's completer does."""
    lines = LogLines(attempt, 64 * 1024)
    for i, message in enumerate(messages):
        lines.add("INFO" if i % 2 == 0 else "ERROR", "log", message, ts_ms=1000 + i)
    sealed = invocation_logs.seal(lines, 3, final=False, dead_letter=True, dead=False)
    cmds = invocation_logs.commands(Keys.of(settings), settings, [("echo", invocation_id, sealed)])
    await invocation_logs.send(redis, cmds)


async def test_logs_of_each_attempt_in_order(
    client: Client, runner: FakeRunner, redis: Redis, settings: Settings
) -> None:
    inv = await invoke(client)
    await runner.finish("echo", await runner.claim("echo"))
    await store(redis, settings, inv, 2, "second try")
    await store(redis, settings, inv, 1, "first", "oops")
    response = await client.get(f"/invocations/{inv}/logs")
    assert response.status == 200
    body = await response.json()
    assert body["id"] == inv
    assert body["lines"] == [
        {"attempt": 1, "ts": 1000, "level": "INFO", "stream": "log", "message": "first"},
        {"attempt": 1, "ts": 1001, "level": "ERROR", "stream": "log", "message": "oops"},
        {"attempt": 2, "ts": 1000, "level": "INFO", "stream": "log", "message": "second try"},
    ]
    response = await client.get(f"/invocations/{inv}/logs?attempt=2")
    assert [x["message"] for x in (await response.json())["lines"]] == ["second try"]


async def test_an_invocation_that_logged_nothing_has_no_lines(client: Client) -> None:
    inv = await invoke(client)
    response = await client.get(f"/invocations/{inv}/logs")
    assert response.status == 200
    assert await response.json() == {"id": inv, "lines": []}


async def test_unknown_id_is_404(client: Client) -> None:
    response = await client.get(f"/invocations/{MISSING}/logs")
    assert (await error_of(response))[:2] == (404, "not_found")


async def test_malformed_id_and_attempt_are_400(client: Client) -> None:
    status, code, _ = await error_of(await client.get("/invocations/nope/logs"))
    assert (status, code) == (400, "invalid_invocation_id")
    inv = await invoke(client)
    status, _, message = await error_of(await client.get(f"/invocations/{inv}/logs?attempt=0"))
    assert status == 400 and "attempt" in message
    status, _, _ = await error_of(await client.get(f"/invocations/{inv}/logs?x=1"))
    assert status == 400


async def test_the_route_is_in_the_document(client: Client) -> None:
    doc = await (await client.get("/openapi.json")).json()
    op = doc["paths"]["/invocations/{id}/logs"]["get"]
    assert {"200", "400", "404"} <= set(op["responses"])
    assert "InvocationLogs" in json.dumps(op["responses"]["200"])
    assert "attempt" in json.dumps(doc)
