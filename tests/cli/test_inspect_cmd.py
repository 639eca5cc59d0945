"""``streamfn ls`` and ``streamfn show``: invocations straight from Redis, from the index."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from redis.asyncio import Redis

from streamfn.cli.inspect_cmd import ls_parser, run_ls, run_show, show_parser
from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.outcomes import Completion
from streamfn.rdb import RDB
from streamfn.registry import RunnerReport, publish
from streamfn.settings import Settings
from tests.support.run_cli import child_env, run_streamfn

Capture = pytest.CaptureFixture[str]


async def ls(settings: Settings, *argv: str) -> int:
    return await asyncio.to_thread(run_ls, ls_parser().parse_args(list(argv)), settings)


async def show(settings: Settings, *argv: str) -> int:
    return await asyncio.to_thread(run_show, show_parser().parse_args(list(argv)), settings)


async def kill_all(redis: Redis, keys: Keys, settings: Settings, fn: str) -> None:
    """Deliver every queued entry of ``fn`` and dead-letter it."""
    reply = await redis.xreadgroup(GROUP, "r1", {keys.stream(fn): ">"}, count=100)
    items = [
        Completion(fn, e.decode(), f[b"id"].decode(), 1, error={"type": "E"}, mode="dead")
        for e, f in reply[0][1]
    ]
    await RDB(redis, settings).finish_many("r1", items)


async def test_ls_lists_a_function_by_status_newest_first(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    client = Client(redis, settings)
    dead = [(await client.enqueue("flaky", i, tags=["nightly"])).id for i in range(3)]
    await kill_all(redis, keys, settings, "flaky")
    queued = (await client.enqueue("flaky", 9)).id

    assert await ls(settings, "--function", "flaky", "--status", "dead", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == sorted(dead, reverse=True)
    assert {r["status"] for r in rows} == {"dead"}
    assert rows[0]["tags"] == ["nightly"]

    assert await ls(settings, "--function", "flaky", "--limit", "2") == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == ["ID", "STATUS", "ATTEMPT", "CREATED", "DURATION", "TAGS"]
    assert [line.split()[0] for line in lines] == sorted([*dead, queued], reverse=True)[:2]


async def test_ls_without_a_function_merges_every_deployed_one(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    functions = {"alpha": {"timeout": 5.0}, "beta": {"timeout": 5.0}}
    now = int(time.time() * 1000)
    await publish(redis, keys, RunnerReport("r1", functions, {}), ttl_s=60, now_ms=now)
    client = Client(redis, settings)
    ids = [(await client.enqueue(fn, 1)).id for fn in ("beta", "alpha", "beta")]
    assert await ls(settings, "--json", "--since", "1h") == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["id"] for r in rows) == sorted(ids)
    times = [r["id"].split(".")[1][:12] for r in rows]
    assert times == sorted(times, reverse=True)


async def test_show_prints_one_invocation_with_its_payload(
    settings: Settings, redis: Redis, capsys: Capture
) -> None:
    inv = (await Client(redis, settings).enqueue("echo", {"x": 1}, tags=["a"])).id
    assert await show(settings, inv, "--json") == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["id"], body["status"], body["payload"], body["tags"]) == (
        inv,
        "queued",
        {"x": 1},
        ["a"],
    )
    assert await show(settings, inv) == 0
    out = capsys.readouterr().out
    assert f"id:           {inv}" in out and 'payload:      {"x":1}' in out


async def test_show_of_an_unknown_id_exits_1(settings: Settings, capsys: Capture) -> None:
    assert await show(settings, "echo." + "0" * 24) == 1
    assert "no invocation" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--function", "Bad"],
        ["--status", "done"],
        ["--since", "yesterday"],
        ["--since", "2030-01-01T00:00:00"],  # no offset
        ["--limit", "0"],
        ["--limit", "501"],
    ],
)
def test_bad_ls_arguments_exit_2(argv: list[str], capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exited:
        ls_parser().parse_args(argv)
    assert exited.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


async def test_a_malformed_id_exits_2_and_redis_down_exits_3(settings: Settings) -> None:
    assert await show(settings, "not-an-id") == 2
    result = await asyncio.to_thread(
        run_streamfn,
        "show",
        "echo." + "0" * 24,
        env=child_env(settings, STREAMFN_REDIS_URL="redis://127.0.0.1:1"),
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
