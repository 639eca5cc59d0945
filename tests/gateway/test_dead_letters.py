"""GET /dead-letters?function=<fn>, POST /dead-letters/{id}/replay, DELETE /dead-letters/{id}."""

from __future__ import annotations

from typing import Any

import pytest
from yarl import URL

from tests.gateway.conftest import Client
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_invocations import MISSING, invoke
from tests.gateway.test_invoke import error_of


def boom(payload: Any) -> tuple[Any, dict[str, str]]:
    return None, {"type": "ValueError", "message": f"bad {payload}"}


async def kill(client: Client, runner: FakeRunner, *payloads: object) -> list[str]:
    """Invocations that went straight to the dead-letter stream (a permanent failure)."""
    ids = [await invoke(client, body=p) for p in payloads]
    entries = await runner.claim("echo")
    assert set(await runner.finish("echo", entries, boom, mode="dead")) == {"dead"}
    return ids


async def test_lists_dead_letters_newest_first(client: Client, runner: FakeRunner) -> None:
    ids = await kill(client, runner, 1, 2, 3)
    response = await client.get("/dead-letters?function=echo")
    assert response.status == 200
    body = await response.json()
    assert body["function"] == "echo"
    assert [d["id"] for d in body["dead_letters"]] == ids[::-1]
    newest = body["dead_letters"][0]
    assert newest["payload"] == 3
    assert newest["error"] == {"type": "ValueError", "message": "bad 3"}
    assert newest["attempts"] >= 1
    assert isinstance(newest["dead_at"], int)
    assert isinstance(newest["entry"], str)


async def test_count_limits_the_list(client: Client, runner: FakeRunner) -> None:
    await kill(client, runner, 1, 2, 3)
    body = await (await client.get("/dead-letters?function=echo&count=2")).json()
    assert len(body["dead_letters"]) == 2


async def test_a_function_without_dead_letters_lists_none(client: Client) -> None:
    body = await (await client.get("/dead-letters?function=nobody")).json()
    assert body == {"function": "nobody", "dead_letters": []}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "invalid_parameter"),
        ("count=5", "invalid_parameter"),
        ("function=", "invalid_function_name"),
        ("function=Echo", "invalid_function_name"),
        ("function=%2e%2e", "invalid_function_name"),
        ("function=echo%00", "invalid_function_name"),
        ("function=echo&count=0", "invalid_parameter"),
        ("function=echo&count=1001", "invalid_parameter"),
        ("function=echo&count=-1", "invalid_parameter"),
        ("function=echo&count=1.5", "invalid_parameter"),
        ("function=echo&count=" + "9" * 5000, "invalid_parameter"),
        ("function=echo&function=slow", "invalid_parameter"),
        ("function=echo&limit=5", "invalid_parameter"),
    ],
)
async def test_bad_queries_are_400(client: Client, query: str, code: str) -> None:
    response = await client.get(URL(f"/dead-letters?{query}", encoded=True))
    assert (await error_of(response))[:2] == (400, code)


async def test_replay_queues_a_dead_invocation_again(client: Client, runner: FakeRunner) -> None:
    (inv,) = await kill(client, runner, "again")
    response = await client.post(f"/dead-letters/{inv}/replay")
    assert response.status == 202
    assert await response.json() == {"id": inv, "status": "queued"}
    assert response.headers["Location"] == f"/invocations/{inv}"
    body = await (await client.get(f"/invocations/{inv}")).json()
    assert body["status"] == "queued"
    letters = await (await client.get("/dead-letters?function=echo")).json()
    assert letters["dead_letters"] == []
    assert await runner.run_once("echo") == 1
    body = await (await client.get(f"/invocations/{inv}")).json()
    assert body["result"] == {"echo": "again"}


async def test_replay_of_a_live_invocation_is_409(client: Client, runner: FakeRunner) -> None:
    (inv,) = await kill(client, runner, 1)
    assert (await client.post(f"/dead-letters/{inv}/replay")).status == 202
    response = await client.post(f"/dead-letters/{inv}/replay")
    status, code, message = await error_of(response)
    assert (status, code) == (409, "conflict")
    assert (await response.json())["error"]["status"] == "queued"
    assert "not dead" in message


async def test_replay_unknown_is_404(client: Client) -> None:
    response = await client.post(f"/dead-letters/{MISSING}/replay")
    assert (await error_of(response))[:2] == (404, "not_found")


@pytest.mark.parametrize("bad", ["echo", "%2e%2e", "echo.xyz", "ECHO." + "0" * 24])
async def test_replay_of_a_malformed_id_is_400(client: Client, bad: str) -> None:
    response = await client.post(URL(f"/dead-letters/{bad}/replay", encoded=True))
    assert (await error_of(response))[:2] == (400, "invalid_invocation_id")


async def test_replay_with_get_is_405(client: Client) -> None:
    response = await client.get(f"/dead-letters/{MISSING}/replay")
    assert (await error_of(response))[:2] == (405, "method_not_allowed")


async def test_delete_discards_a_dead_invocation_for_good(
    client: Client, runner: FakeRunner
) -> None:
    gone, kept = await kill(client, runner, "gone", "kept")
    response = await client.delete(f"/dead-letters/{gone}")
    assert response.status == 200
    assert await response.json() == {"id": gone, "status": "discarded"}
    assert (await client.get(f"/invocations/{gone}")).status == 404
    letters = await (await client.get("/dead-letters?function=echo")).json()
    assert [d["id"] for d in letters["dead_letters"]] == [kept]
    again = await client.delete(f"/dead-letters/{gone}")
    assert (await error_of(again))[:2] == (404, "not_found")


async def test_delete_of_an_invocation_that_is_not_dead_is_409(
    client: Client, runner: FakeRunner
) -> None:
    inv = await invoke(client, body=1)
    response = await client.delete(f"/dead-letters/{inv}")
    status, code, message = await error_of(response)
    assert (status, code) == (409, "conflict")
    assert (await response.json())["error"]["status"] == "queued" and "not dead" in message
    assert (await (await client.get(f"/invocations/{inv}")).json())["status"] == "queued"


@pytest.mark.parametrize("bad", ["echo", "%2e%2e", "echo.xyz"])
async def test_delete_of_a_malformed_id_is_400(client: Client, bad: str) -> None:
    response = await client.delete(URL(f"/dead-letters/{bad}", encoded=True))
    assert (await error_of(response))[:2] == (400, "invalid_invocation_id")
