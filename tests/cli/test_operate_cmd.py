"""``streamfn runners``, ``streamfn pause FN`` and ``streamfn resume FN`` straight from Redis:
what they print, what they write, their exit codes."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from redis.asyncio import Redis

from streamfn import codec
from streamfn.cli.operate_cmd import pause_parser, run, runners_parser
from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.registry import Lease, RunnerReport, publish, withdraw
from streamfn.settings import Settings
from tests.cli.test_functions_cmd import cli as functions_cli
from tests.support.run_cli import child_env, run_streamfn

Capture = pytest.CaptureFixture[str]
POLICY = {"timeout": 5.0, "retries": 1, "kind": "async"}


async def cli(settings: Settings, command: str, *argv: str) -> int:
    """Run ``streamfn COMMAND ARGV`` in a thread (it runs its own event loop)."""
    parser = runners_parser() if command == "runners" else pause_parser(command)
    return await asyncio.to_thread(run, command, parser.parse_args(list(argv)), settings)


async def redis_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_runners_lists_each_live_runner_and_orphaned_work(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    now = await redis_ms(redis)
    report = RunnerReport(
        "box-42-cafe",
        {"echo": dict(POLICY)},
        {},
        host="box",
        pid=42,
        concurrency=8,
        version="0.1.0",
        started_ms=now - 5_000,
        at_ms=now,
        in_flight=1,
        oldest_lease=Lease("echo.00000000000000000000abcd", "echo", now - 3_000),
    )
    await publish(redis, keys, report, ttl_s=60, now_ms=now)
    await Client(redis, settings).enqueue("echo", {"n": 1})
    await redis.xreadgroup(GROUP, "gone-1-dead", {keys.stream("echo"): ">"}, count=1)

    assert await cli(settings, "runners", "--json") == 0
    body = json.loads(capsys.readouterr().out)
    (row,) = body["runners"]
    assert (row["id"], row["host"], row["pid"], row["in_flight"]) == ("box-42-cafe", "box", 42, 1)
    assert row["oldest_lease"]["id"] == "echo.00000000000000000000abcd"
    assert body["orphaned"] == [{"function": "echo", "entries": 1}]

    assert await cli(settings, "runners") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["ID", "HOST", "PID"]
    assert out[1].split()[:4] == ["box-42-cafe", "box", "42", "0.1.0"]
    assert "1/8" in out[1] and "echo.00000000000000000000abcd" in out[1]
    assert out[2] == "box-42-cafe: echo"
    assert out[3] == "orphaned: echo has 1 entries held by runners that are gone"


async def test_pause_and_resume_write_the_registry_and_functions_ls_shows_it(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    functions = {"echo": dict(POLICY)}
    await publish(redis, keys, RunnerReport("r1", functions, {}), ttl_s=60, now_ms=1)
    assert await cli(settings, "pause", "echo") == 0
    assert capsys.readouterr().out.startswith("paused echo since ")
    stored = codec.loads(await redis.hget(keys.paused, "echo"))
    assert 0 <= await redis_ms(redis) - stored["at"] < 5000

    assert await functions_cli(settings, "ls", "--json") == 0
    (echo,) = json.loads(capsys.readouterr().out)["functions"]
    assert (echo["paused"], echo["paused_at"]) == (True, stored["at"])
    assert await functions_cli(settings, "ls") == 0
    header, row = capsys.readouterr().out.splitlines()
    assert "PAUSED" in header.split() and "since" in row.split()

    assert await cli(settings, "resume", "echo") == 0
    assert capsys.readouterr().out.strip() == "resumed echo"
    assert await redis.hget(keys.paused, "echo") is None
    assert await cli(settings, "resume", "echo") == 0
    assert capsys.readouterr().out.strip() == "echo was not paused"
    assert await functions_cli(settings, "ls") == 0
    assert capsys.readouterr().out.splitlines()[1].split()[7] == "-"


async def test_pause_refuses_an_unknown_or_invalid_name(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    assert await cli(settings, "pause", "nope") == 1
    assert "function 'nope' is not deployed" in capsys.readouterr().err
    assert await cli(settings, "resume", "nope") == 1
    assert await cli(settings, "pause", "Bad-Name") == 2
    assert "invalid function name" in capsys.readouterr().err
    assert await redis.hlen(keys.paused) == 0
    functions = {"echo": dict(POLICY)}
    await withdraw(redis, keys, "r1", functions, now_ms=int(time.time() * 1000))
    assert await cli(settings, "pause", "echo") == 0, "a deployed function with no runner"


def test_commands_run_as_processes_and_say_when_redis_is_down(settings: Settings) -> None:
    done = run_streamfn("runners", env=child_env(settings))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:3] == ["ID", "HOST", "PID"]
    down = child_env(settings, STREAMFN_REDIS_URL="redis://127.0.0.1:1/0")
    for argv in (("runners",), ("pause", "echo"), ("resume", "echo")):
        done = run_streamfn(*argv, env=down)
        assert done.returncode == 3, (argv, done.stderr)
        assert "cannot use Redis" in done.stderr
    assert run_streamfn("pause", env=child_env(settings)).returncode == 2
    assert "pause FN" in run_streamfn("--help", env=child_env(settings)).stdout
