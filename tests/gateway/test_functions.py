"""GET /functions: the catalog of live runners, refreshed in the background."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.gateway.state import CATALOG
from streamfn.keys import Keys
from streamfn.registry import RunnerReport, publish, withdraw
from tests.gateway.conftest import Client, make_known
from tests.gateway.test_invoke import error_of
from tests.support.procs import wait_until


async def test_lists_functions_errors_and_runners(client: Client) -> None:
    response = await client.get("/functions")
    assert response.status == 200
    body = await response.json()
    assert [f["name"] for f in body["functions"]] == ["echo", "slow"]
    echo = body["functions"][0]
    assert echo == {"name": "echo", "timeout": 60.0, "retries": 3, "kind": "async", "runners": 1}
    assert body["errors"] == {}
    assert body["runners"] == 1


async def test_a_published_function_shows_within_a_second(
    client: Client, redis: Redis, keys: Keys
) -> None:
    report = RunnerReport(
        "r2", {"fresh": {"timeout": 5.0, "retries": 0, "kind": "sync"}}, {"bad.py": "SyntaxError"}
    )
    await publish(redis, keys, report, ttl_s=60)

    async def listed() -> bool:
        body = await (await client.get("/functions")).json()
        return "fresh" in {f["name"] for f in body["functions"]}

    assert await wait_until(listed, 3, what="the refresher to see the new runner") < 1.5
    body = await (await client.get("/functions")).json()
    assert body["runners"] == 2
    assert body["errors"] == {"bad.py": "SyntaxError"}
    assert (await client.post("/invoke/fresh")).status == 202


async def test_functions_on_two_runners_count_both(
    client: Client, redis: Redis, keys: Keys
) -> None:
    await make_known(redis, keys, "echo", runner_id="r2")
    assert client.app is not None
    await client.app[CATALOG].refresh()
    body = await (await client.get("/functions")).json()
    runners = {f["name"]: f["runners"] for f in body["functions"]}
    assert runners == {"echo": 2, "slow": 1}


async def test_a_withdrawn_function_becomes_unknown(
    client: Client, redis: Redis, keys: Keys
) -> None:
    await withdraw(redis, keys, "r1")
    assert client.app is not None
    await client.app[CATALOG].refresh()
    body = await (await client.get("/functions")).json()
    assert body == {"functions": [], "errors": {}, "runners": 0}
    response = await client.post("/invoke/echo")
    status, code, message = await error_of(response)
    assert (status, code) == (404, "unknown_function")
    assert "no runner is live" in message


async def test_unknown_function_with_a_load_error_says_why(
    client: Client, redis: Redis, keys: Keys
) -> None:
    report = RunnerReport("r3", {}, {"functions/broken.py": "NameError: name 'x' is not defined"})
    await publish(redis, keys, report, ttl_s=60)
    assert client.app is not None
    await client.app[CATALOG].refresh()
    response = await client.post("/invoke/broken")
    status, code, message = await error_of(response)
    assert (status, code) == (404, "unknown_function")
    assert "broken.py failed to load: NameError" in message


async def test_functions_takes_no_parameters_it_ignores(client: Client) -> None:
    response = await client.get("/functions?verbose=1")
    assert (await error_of(response))[:2] == (400, "invalid_parameter")
