"""GET /functions (deployed and removed functions with their queues' counts), GET
/functions/{fn} (one, with its policy and orphaned work) and DELETE /functions/{fn} (an
operator removing one), over a real gateway and Redis."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from redis.asyncio import Redis

from streamfn.gateway.function_models import FunctionDetail
from streamfn.gateway.models import Functions, RemovedFunction
from streamfn.gateway.state import CATALOG
from streamfn.keys import Keys
from streamfn.registry import RunnerReport, publish, withdraw
from streamfn.settings import Settings
from tests.gateway.conftest import POLICY, Client, make_known, refresh, serving
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_invoke import error_of
from tests.support.procs import wait_until

ZERO = {"queued": 0, "running": 0, "scheduled": 0, "oldest_queued_age_s": 0.0}


async def listing(client: Client) -> dict[str, Any]:
    response = await client.get("/functions")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    msgspec.convert(body, Functions)  # the shape the OpenAPI document promises
    return body


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


async def gone_runner(redis: Redis, keys: Keys, *names: str, runner_id: str = "r1") -> None:
    """``runner_id`` stops cleanly (withdraws its report) while it had ``names`` loaded."""
    await withdraw(
        redis, keys, runner_id, {n: dict(POLICY) for n in names}, now_ms=int(time.time() * 1000)
    )


async def test_lists_functions_errors_and_runners(client: Client) -> None:
    body = await listing(client)
    assert [f["name"] for f in body["functions"]] == ["echo", "slow"]
    echo = body["functions"][0]
    assert echo == {
        "name": "echo",
        **POLICY,
        "runners": 1,
        "state": "live",
        "paused": False,
        **ZERO,
    }
    assert body["removed"] == []
    assert body["errors"] == {}
    assert body["runners"] == 1


async def test_a_published_function_shows_within_a_second(
    client: Client, redis: Redis, keys: Keys
) -> None:
    report = RunnerReport(
        "r2", {"fresh": {"timeout": 5.0, "retries": 0, "kind": "sync"}}, {"bad.py": "SyntaxError"}
    )
    await publish(redis, keys, report, ttl_s=60, now_ms=int(time.time() * 1000))

    async def listed() -> bool:
        body = await (await client.get("/functions")).json()
        return "fresh" in {f["name"] for f in body["functions"]}

    assert await wait_until(listed, 3, what="the refresher to see the new runner") < 1.5
    body = await listing(client)
    assert body["runners"] == 2
    assert body["errors"] == {"bad.py": "SyntaxError"}
    assert (await client.post("/invoke/fresh")).status == 202


async def test_functions_on_two_runners_count_both(
    client: Client, redis: Redis, keys: Keys
) -> None:
    await make_known(redis, keys, "echo", runner_id="r2")
    assert client.app is not None
    await refresh(client.app)
    body = await listing(client)
    runners = {f["name"]: f["runners"] for f in body["functions"]}
    assert runners == {"echo": 2, "slow": 1}


async def test_a_function_whose_runners_went_away_stays_deployed_and_queues(
    client: Client, redis: Redis, keys: Keys
) -> None:
    await gone_runner(redis, keys, "echo", "slow")
    assert client.app is not None
    await refresh(client.app)
    response = await client.post("/invoke/echo?wait=0.2")
    assert response.status == 202
    assert (await response.json())["status"] == "queued"
    assert (await client.post("/invoke/echo")).status == 202
    body = await listing(client)
    assert body["runners"] == 0
    echo = by_name(body["functions"])["echo"]
    assert (echo["state"], echo["runners"], echo["queued"]) == ("no_runner", 0, 2)
    assert echo["retained_until"] - echo["last_seen_at"] == 7 * 86_400_000


async def test_a_name_never_deployed_is_404_with_how_to_add_it(settings: Settings) -> None:
    async with serving(settings) as client:
        status, code, message = await error_of(await client.post("/invoke/echo"))
    assert (status, code) == (404, "unknown_function")
    assert "no runner is live" in message


async def test_unknown_function_with_a_load_error_says_why(
    client: Client, redis: Redis, keys: Keys
) -> None:
    report = RunnerReport("r3", {}, {"functions/broken.py": "NameError: name 'x' is not defined"})
    await publish(redis, keys, report, ttl_s=60, now_ms=int(time.time() * 1000))
    assert client.app is not None
    await refresh(client.app)
    response = await client.post("/invoke/broken")
    status, code, message = await error_of(response)
    assert (status, code) == (404, "unknown_function")
    assert "broken.py failed to load: NameError" in message


async def test_counts_queued_running_scheduled_and_the_oldest_queued_age(
    client: Client, redis: Redis, keys: Keys, runner: FakeRunner
) -> None:
    minute_ago = int(time.time() * 1000) - 60_000
    await redis.xadd(keys.stream("echo"), {"id": "x", "p": "null"}, id=f"{minute_ago}-0")
    for _ in range(3):
        assert (await client.post("/invoke/echo")).status == 202
    assert (await client.post("/invoke/echo?delay=60")).status == 202
    echo = by_name((await listing(client))["functions"])["echo"]
    assert (echo["queued"], echo["running"], echo["scheduled"]) == (4, 0, 1)
    assert 55 < echo["oldest_queued_age_s"] < 120
    assert len(await runner.claim("echo", count=1)) == 1  # the minute-old entry is running
    echo = by_name((await listing(client))["functions"])["echo"]
    assert (echo["queued"], echo["running"], echo["scheduled"]) == (3, 1, 1)
    assert 0 <= echo["oldest_queued_age_s"] < 30


async def test_a_partitioned_function_with_no_runner_keeps_its_queues_and_sums_them(
    settings: Settings, redis: Redis, keys: Keys
) -> None:
    """A gateway started while no runner is live still knows PARTITIONS (from the registry)."""
    hot = {"hot": {**POLICY, "partitions": 3}}
    await publish(redis, keys, RunnerReport("r1", hot, {}), ttl_s=60, now_ms=1)
    await withdraw(redis, keys, "r1", hot, now_ms=int(time.time() * 1000))
    async with serving(settings) as client:
        for _ in range(6):
            assert (await client.post("/invoke/hot")).status == 202
        shown = by_name((await listing(client))["functions"])["hot"]
    assert (shown["state"], shown["partitions"], shown["queued"]) == ("no_runner", 3, 6)
    for queue in ("hot", "hot@3.1", "hot@3.2"):
        assert await redis.xlen(keys.stream(queue)) == 2


async def test_delete_is_refused_while_a_live_runner_loads_it(client: Client) -> None:
    status, code, message = await error_of(await client.delete("/functions/echo"))
    assert (status, code) == (409, "conflict")
    assert "loaded by 1 live runner(s) (r1)" in message
    assert (await client.post("/invoke/echo")).status == 202


async def test_delete_removes_it_and_keeps_its_queued_work(
    client: Client, redis: Redis, keys: Keys
) -> None:
    await gone_runner(redis, keys, "echo", "slow")
    assert client.app is not None
    await refresh(client.app)
    assert (await client.post("/invoke/echo")).status == 202
    assert (await client.post("/invoke/echo?delay=60")).status == 202
    response = await client.delete("/functions/echo")
    assert response.status == 200
    removed = msgspec.convert(await response.json(), RemovedFunction)
    assert (removed.state, removed.reason) == ("removed", "operator")
    assert (removed.queued, removed.scheduled) == (1, 1)
    status, code, message = await error_of(await client.post("/invoke/echo"))
    assert (status, code) == (404, "unknown_function")
    assert "removed by an operator" in message and "queued work is kept" in message
    body = await listing(client)
    assert [f["name"] for f in body["functions"]] == ["slow"]
    assert [(r["name"], r["queued"], r["scheduled"]) for r in body["removed"]] == [("echo", 1, 1)]
    assert await redis.xlen(keys.stream("echo")) == 1, "nothing was dropped"
    assert (await error_of(await client.delete("/functions/echo")))[:2] == (404, "unknown_function")


async def test_delete_of_a_name_never_deployed_or_invalid(client: Client) -> None:
    assert (await error_of(await client.delete("/functions/nope")))[:2] == (404, "unknown_function")
    status, code, _ = await error_of(await client.delete("/functions/Bad-Name"))
    assert (status, code) == (400, "invalid_function_name")


async def test_a_runner_loading_a_removed_function_deploys_it_again(
    client: Client, redis: Redis, keys: Keys
) -> None:
    await gone_runner(redis, keys, "echo")
    assert client.app is not None
    await refresh(client.app)
    assert (await client.delete("/functions/echo")).status == 200
    await make_known(redis, keys, "echo", runner_id="r2")
    await client.app[CATALOG].refresh()
    assert (await client.post("/invoke/echo")).status == 202
    assert (await listing(client))["removed"] == []


async def test_functions_takes_no_parameters_it_ignores(client: Client) -> None:
    response = await client.get("/functions?verbose=1")
    assert (await error_of(response))[:2] == (400, "invalid_parameter")


async def detail(client: Client, fn: str) -> dict[str, Any]:
    response = await client.get(f"/functions/{fn}")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    msgspec.convert(body, FunctionDetail)  # the shape the OpenAPI document promises
    return body


async def test_one_function_has_its_state_counts_orphans_and_policy(
    client: Client, redis: Redis, keys: Keys, runner: FakeRunner
) -> None:
    for _ in range(3):
        assert (await client.post("/invoke/echo")).status == 202
    assert (await client.post("/invoke/echo?delay=60")).status == 202
    assert len(await runner.claim("echo", count=1)) == 1  # by a consumer no report names
    echo = await detail(client, "echo")
    assert (echo["name"], echo["state"], echo["runners"], echo["paused"]) == (
        "echo",
        "live",
        ["r1"],
        False,
    )
    assert (echo["queued"], echo["running"], echo["scheduled"]) == (2, 1, 1)
    assert echo["orphaned"] == 1, "the entry's holder has no live report"
    assert echo["partitions"] == 1
    assert echo["policy"] == {**POLICY, "partitions": 1}
    assert "paused_at" not in echo and "retained_until" not in echo


async def test_one_function_whose_runner_is_live_holds_no_orphans(
    client: Client, redis: Redis, keys: Keys, runner: FakeRunner
) -> None:
    assert (await client.post("/invoke/echo")).status == 202
    assert len(await runner.claim("echo", count=1)) == 1
    await make_known(redis, keys, "echo", runner_id="fake-runner")  # that consumer is live
    assert client.app is not None
    await refresh(client.app)
    echo = await detail(client, "echo")
    assert (echo["running"], echo["orphaned"]) == (1, 0)
    assert echo["runners"] == ["fake-runner", "r1"]


async def test_one_function_with_no_runner_says_until_when_it_is_kept(
    client: Client, redis: Redis, keys: Keys
) -> None:
    await gone_runner(redis, keys, "echo", "slow")
    assert client.app is not None
    await refresh(client.app)
    echo = await detail(client, "echo")
    assert (echo["state"], echo["runners"]) == ("no_runner", [])
    assert echo["retained_until"] - echo["last_seen_at"] == 7 * 86_400_000


async def test_one_function_unknown_removed_invalid_or_with_parameters(
    client: Client, redis: Redis, keys: Keys
) -> None:
    assert (await error_of(await client.get("/functions/nope")))[:2] == (404, "unknown_function")
    status, code, _ = await error_of(await client.get("/functions/Bad-Name"))
    assert (status, code) == (400, "invalid_function_name")
    status, code, _ = await error_of(await client.get("/functions/echo?verbose=1"))
    assert (status, code) == (400, "invalid_parameter")
    await gone_runner(redis, keys, "echo")
    assert client.app is not None
    await refresh(client.app)
    assert (await client.delete("/functions/echo")).status == 200
    status, code, message = await error_of(await client.get("/functions/echo"))
    assert (status, code) == (404, "unknown_function")
    assert "removed by an operator" in message
