"""A token sees only the data it may: payloads, results, errors of invocations, dead letters and
schedules are redacted for a viewer (and for any token whose pattern does not match).

The check is generated from the route table: every GET route a viewer may call is asked, with
each of the seeded invocations and schedules in its parameters, and the secret the data holds
must appear in none of the answers; a viewer allowed to see payloads finds it, so the seed is
really there.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.gateway.access import access_of
from streamfn.gateway.models import AssetPath, InvocationPath
from streamfn.gateway.redact import REDACTED
from streamfn.gateway.routes import ROUTES
from streamfn.gateway.schedule_models import SchedulePath
from streamfn.keys import Keys
from streamfn.settings import Settings
from streamfn.tokens import Role, hash_token, token_line
from tests.gateway.conftest import Client, make_known, serving
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_auth import MAILER, SECRETS, bearer, token_lines
from tests.gateway.test_logs import store

SECRET = "s3cr3t-7f1a"
PEEKER = "sfn_test_peeker"
"""A viewer allowed to see payloads."""
QUIET = "sfn_test_quiet"
"""An invoker not allowed to."""
ADMIN = bearer(SECRETS[Role.ADMIN])


def boom(payload: Any) -> tuple[Any, dict[str, str]]:
    return None, {"type": "ValueError", "message": f"bad {payload}", "traceback": str(payload)}


@pytest.fixture
async def gateway(settings: Settings, redis: Redis, keys: Keys) -> AsyncIterator[Client]:
    await make_known(redis, keys, "echo")
    extra = (
        token_line("peeker", Role.VIEWER, hash_token(PEEKER), see=True),
        token_line("quiet", Role.INVOKER, hash_token(QUIET), see=False),
    )
    async with serving(replace(settings, tokens=token_lines(extra), metrics_auth=True)) as client:
        yield client


async def seed(client: Client, runner: FakeRunner) -> dict[str, list[str]]:
    """A succeeded and a dead invocation and a schedule, each holding SECRET (the succeeded
    one logged it too)."""
    ok = (await (await client.post("/invoke/echo", json={"s": SECRET}, headers=ADMIN)).json())["id"]
    await runner.finish("echo", await runner.claim("echo"))
    await store(runner.redis, runner.rdb.settings, ok, 1, f"handling {SECRET}")
    dead = (await (await client.post("/invoke/echo", json=SECRET, headers=ADMIN)).json())["id"]
    await runner.finish("echo", await runner.claim("echo"), boom, mode="dead")
    schedule = {"id": "nightly", "function": "echo", "every": "1h", "payload": SECRET}
    assert (await client.post("/schedules", json=schedule, headers=ADMIN)).status == 201
    return {"invocation": [ok, dead], "schedule": ["nightly"]}


def urls(seeded: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(route name, URL) of every GET route a viewer may call, over every seeded object."""
    out = []
    for route in ROUTES:
        if route.method != "GET" or (access_of(route).role or Role.VIEWER) > Role.VIEWER:
            continue
        kind = {InvocationPath: "invocation", SchedulePath: "schedule"}.get(route.path_params)
        values = seeded[kind] if kind else ["docs.js" if route.path_params is AssetPath else ""]
        query = (
            "?function=echo" if route.query and "function" in route.query.__struct_fields__ else ""
        )
        for value in values:
            out.append((route.name, re.sub(r"\{\w+\}", value or "echo", route.path) + query))
    return out


async def test_a_viewer_never_sees_a_payload_it_is_not_allowed_to(
    gateway: Client, runner: FakeRunner
) -> None:
    seeded = await seed(gateway, runner)
    found_by_peeker = set()
    for name, url in urls(seeded):
        hidden = await gateway.get(url, headers=bearer(SECRETS[Role.VIEWER]))
        assert hidden.status == 200, (url, await hidden.text())
        assert SECRET not in await hidden.text(), url
        shown = await gateway.get(url, headers=bearer(PEEKER))
        if SECRET in await shown.text():
            found_by_peeker.add(name)
    assert {
        "get_invocation",
        "get_invocation_logs",
        "list_dead_letters",
        "list_schedules",
        "get_schedule",
    } <= found_by_peeker


async def test_what_is_redacted_keeps_its_shape(gateway: Client, runner: FakeRunner) -> None:
    ok, dead = (await seed(gateway, runner))["invocation"]
    viewer = bearer(SECRETS[Role.VIEWER])
    body = await (await gateway.get(f"/invocations/{ok}", headers=viewer)).json()
    assert (body["status"], body["result"]) == ("succeeded", REDACTED)
    body = await (await gateway.get(f"/invocations/{dead}", headers=viewer)).json()
    assert (body["status"], body["error"]) == ("dead", {"type": "ValueError", "message": REDACTED})
    letters = await (await gateway.get("/dead-letters?function=echo", headers=viewer)).json()
    (letter,) = letters["dead_letters"]
    assert (letter["id"], letter["payload"], letter["error"]["message"]) == (
        dead,
        REDACTED,
        REDACTED,
    )
    schedule = await (await gateway.get("/schedules/nightly", headers=viewer)).json()
    assert (schedule["every"], schedule["payload"]) == ("1h", REDACTED)
    operator = bearer(SECRETS[Role.OPERATOR])
    body = await (await gateway.get(f"/invocations/{ok}", headers=operator)).json()
    assert body["result"] == {"echo": {"s": SECRET}}


async def test_a_pattern_limits_whose_data_a_token_sees(
    gateway: Client, runner: FakeRunner
) -> None:
    ok, _ = (await seed(gateway, runner))["invocation"]
    body = await (await gateway.get(f"/invocations/{ok}", headers=bearer(MAILER))).json()
    assert body["result"] == REDACTED  # mailer sees payloads, but only of email*


async def test_an_invoker_without_see_payloads_waits_for_a_redacted_result(
    gateway: Client, runner: FakeRunner
) -> None:
    runner.start("echo")
    response = await gateway.post("/invoke/echo?wait=10", json=SECRET, headers=bearer(QUIET))
    assert response.status == 200
    body = await response.json()
    assert (body["status"], body["result"]) == ("succeeded", REDACTED)
    mine = await gateway.post("/invoke/echo?wait=10", json=SECRET, headers=ADMIN)
    assert (await mine.json())["result"] == {"echo": SECRET}
