"""GET /invocations/{id} (with long-poll) and DELETE /invocations/{id} (cancel)."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis
from yarl import URL

from streamfn.gateway.state import CLIENT
from streamfn.keys import Keys
from tests.gateway.conftest import Client
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_invoke import error_of
from tests.support.procs import wait_until

MISSING = "echo." + "0" * 24


async def invoke(client: Client, path: str = "/invoke/echo", body: object = None) -> str:
    response = await client.post(path, json=body)
    assert response.status == 202
    invocation_id: str = (await response.json())["id"]
    return invocation_id


async def test_get_shows_a_queued_invocation(client: Client) -> None:
    inv = await invoke(client)
    response = await client.get(f"/invocations/{inv}")
    assert response.status == 200
    body = await response.json()
    assert body["id"] == inv
    assert body["function"] == "echo"
    assert body["status"] == "queued"
    assert body["attempt"] == 1
    assert isinstance(body["created_at"], int)
    assert "result" not in body


async def test_get_shows_running_then_the_result(client: Client, runner: FakeRunner) -> None:
    inv = await invoke(client, body={"v": 1})
    entries = await runner.claim("echo")
    body = await (await client.get(f"/invocations/{inv}")).json()
    assert body["status"] == "running"
    assert body["deliveries"] == 1
    await runner.finish("echo", entries)
    body = await (await client.get(f"/invocations/{inv}")).json()
    assert body["status"] == "succeeded"
    assert body["result"] == {"echo": {"v": 1}}
    assert body["finished_at"] >= body["created_at"]


async def test_unknown_id_is_404(client: Client) -> None:
    response = await client.get(f"/invocations/{MISSING}")
    assert (await error_of(response))[:2] == (404, "not_found")
    response = await client.get(f"/invocations/{MISSING}?wait=1")
    assert (await error_of(response))[:2] == (404, "not_found")


@pytest.mark.parametrize(
    "bad",
    [
        "echo",
        "echo.123",
        "Echo." + "0" * 24,
        "echo." + "g" * 24,
        "echo." + "0" * 25,
        "echo." + "A" * 24,
        "%2e%2e",
        "echo.000000000000000000000000%00",
        "%ff." + "0" * 24,
        "x" * 500,
    ],
)
async def test_malformed_ids_are_400(client: Client, bad: str) -> None:
    for method in ("GET", "DELETE"):
        response = await client.request(method, URL(f"/invocations/{bad}", encoded=True))
        assert (await error_of(response))[:2] == (400, "invalid_invocation_id")


async def test_long_poll_returns_when_it_finishes(client: Client, runner: FakeRunner) -> None:
    inv = await invoke(client, body=3)

    async def finish_soon() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not await runner.run_once("echo"):
            pass

    started = time.monotonic()
    poll = asyncio.create_task(client.get(f"/invocations/{inv}?wait=10"))
    await finish_soon()
    response = await poll
    assert time.monotonic() - started < 5
    body = await response.json()
    assert body["status"] == "succeeded"
    assert body["result"] == {"echo": 3}


async def test_long_poll_times_out_with_the_current_status(client: Client) -> None:
    inv = await invoke(client)
    started = time.monotonic()
    response = await client.get(f"/invocations/{inv}?wait=0.3")
    assert time.monotonic() - started >= 0.3
    assert response.status == 200
    assert (await response.json())["status"] == "queued"


async def test_long_poll_on_a_finished_one_returns_at_once(
    client: Client, runner: FakeRunner
) -> None:
    inv = await invoke(client)
    await runner.run_once("echo")
    started = time.monotonic()
    response = await client.get(f"/invocations/{inv}?wait=30")
    assert time.monotonic() - started < 2
    assert (await response.json())["status"] == "succeeded"


@pytest.mark.parametrize("query", ["wait=0", "wait=x", "wait=nan", "wait=1000", "delay=1", "w=1"])
async def test_bad_get_parameters_are_400(client: Client, query: str) -> None:
    inv = await invoke(client)
    response = await client.get(f"/invocations/{inv}?{query}")
    assert (await error_of(response))[:2] == (400, "invalid_parameter")


async def test_cancel_a_queued_invocation(client: Client) -> None:
    inv = await invoke(client)
    response = await client.delete(f"/invocations/{inv}")
    assert response.status == 200
    assert await response.json() == {"id": inv, "status": "cancelled"}
    body = await (await client.get(f"/invocations/{inv}")).json()
    assert body["status"] == "cancelled"


async def test_cancel_a_scheduled_invocation(client: Client) -> None:
    inv = await invoke(client, "/invoke/echo?delay=3600")
    response = await client.delete(f"/invocations/{inv}")
    assert response.status == 200


async def test_cancel_wakes_a_waiter(client: Client) -> None:
    inv = await invoke(client)
    poll = asyncio.create_task(client.get(f"/invocations/{inv}?wait=10"))
    started = time.monotonic()
    assert client.app is not None
    hub = client.app[CLIENT].waiters

    async def polling() -> bool:
        return hub.waiting == 1

    await wait_until(polling, 5, what="the long poll to wait")
    assert (await client.delete(f"/invocations/{inv}")).status == 200
    body = await (await poll).json()
    assert body["status"] == "cancelled"
    assert time.monotonic() - started < 5


async def test_cancel_running_is_202_cancelling(
    client: Client, runner: FakeRunner, redis: Redis, keys: Keys
) -> None:
    inv = await invoke(client)
    (entry,) = await runner.claim("echo")
    response = await client.delete(f"/invocations/{inv}")
    assert response.status == 202
    assert await response.json() == {"id": inv, "status": "cancelling"}
    assert response.headers["Location"] == f"/invocations/{inv}"
    # The request is recorded for the owning runner; the status stays running until it stops.
    assert await redis.zrange(keys.cancels("echo"), 0, -1) == [entry[0]]
    body = await (await client.get(f"/invocations/{inv}")).json()
    assert body["status"] == "running"
    # Asking again is harmless: still cancelling.
    assert (await client.delete(f"/invocations/{inv}")).status == 202


@pytest.mark.parametrize("times", [1, 2])
async def test_cancel_finished_is_409(client: Client, runner: FakeRunner, times: int) -> None:
    inv = await invoke(client)
    if times == 1:
        await runner.run_once("echo")
        expected = "succeeded"
    else:
        assert (await client.delete(f"/invocations/{inv}")).status == 200
        expected = "cancelled"
    response = await client.delete(f"/invocations/{inv}")
    assert (await error_of(response))[:2] == (409, "conflict")
    assert (await response.json())["error"]["status"] == expected


async def test_cancel_unknown_is_404(client: Client) -> None:
    response = await client.delete(f"/invocations/{MISSING}")
    assert (await error_of(response))[:2] == (404, "not_found")


async def test_cancel_takes_no_parameters(client: Client) -> None:
    inv = await invoke(client)
    response = await client.delete(f"/invocations/{inv}?force=1")
    assert (await error_of(response))[:2] == (400, "invalid_parameter")


async def test_wrong_method_is_405_with_allow(client: Client) -> None:
    response = await client.put(f"/invocations/{MISSING}")
    status, code, _ = await error_of(response)
    assert (status, code) == (405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "DELETE"}
