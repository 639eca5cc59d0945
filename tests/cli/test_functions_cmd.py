"""``streamfn functions ls|rm``: deployed functions straight from Redis, as GET/DELETE do."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from streamfn.cli.functions_cmd import build_parser, run
from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.launch import free_port
from streamfn.registry import RunnerReport, publish, withdraw
from streamfn.settings import Settings
from tests.support.run_cli import child_env, run_streamfn

Capture = pytest.CaptureFixture[str]
POLICY = {"timeout": 5.0, "retries": 1, "kind": "async"}


async def cli(settings: Settings, *argv: str) -> int:
    """Run ``streamfn functions ARGV`` in a thread (it runs its own event loop)."""
    return await asyncio.to_thread(run, build_parser().parse_args(list(argv)), settings)


def now_ms() -> int:
    return int(time.time() * 1000)


async def deploy(redis: Redis, keys: Keys, *names: str, live: bool) -> None:
    """A runner loads ``names``; unless ``live`` it then stops (its report withdrawn)."""
    functions = {n: dict(POLICY) for n in names}
    await publish(redis, keys, RunnerReport("r1", functions, {}), ttl_s=60, now_ms=now_ms())
    if not live:
        await withdraw(redis, keys, "r1", functions, now_ms=now_ms())


async def test_ls_shows_state_runners_and_queued_work(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    await deploy(redis, keys, "echo", live=False)
    client = Client(redis, settings)
    await client.enqueue("echo", {"n": 1})
    await client.enqueue("echo", {"n": 2}, delay=60)
    assert await cli(settings, "ls", "--json") == 0
    body = json.loads(capsys.readouterr().out)
    (echo,) = body["functions"]
    assert (echo["name"], echo["state"], echo["runners"]) == ("echo", "no_runner", 0)
    assert (echo["queued"], echo["running"], echo["scheduled"]) == (1, 0, 1)
    assert body["removed"] == [] and body["runners"] == 0
    assert await cli(settings, "ls") == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:6] == ["NAME", "STATE", "RUNNERS", "QUEUED", "RUNNING", "SCHEDULED"]
    assert row.split()[:6] == ["echo", "no_runner", "0", "1", "0", "1"]


async def test_rm_removes_keeps_the_work_and_refuses_a_live_or_unknown_one(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    await deploy(redis, keys, "echo", live=False)
    await Client(redis, settings).enqueue("echo", {"n": 1})
    assert await cli(settings, "rm", "echo") == 0
    assert capsys.readouterr().out.strip() == (
        "removed echo (its queues keep 1 queued, 0 running, 0 scheduled)"
    )
    assert await cli(settings, "ls", "--json") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["functions"] == []
    assert [(r["name"], r["reason"], r["queued"]) for r in body["removed"]] == [
        ("echo", "operator", 1)
    ]
    assert await cli(settings, "rm", "echo", "never") == 1
    err = capsys.readouterr().err
    assert "'echo' was removed already" in err and "'never' was never deployed" in err
    await deploy(redis, keys, "live", live=True)
    assert await cli(settings, "rm", "live") == 4
    assert "loaded by 1 live runner(s) (r1)" in capsys.readouterr().err


async def test_bad_names_exit_2_and_redis_down_exits_3(settings: Settings) -> None:
    assert await cli(settings, "rm", "Bad-Name") == 2
    down = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert await cli(down, "ls") == 3


def test_the_command_runs_as_streamfn_functions(settings: Settings) -> None:
    done = run_streamfn("functions", "ls", "--json", env=child_env(settings))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"functions": [], "removed": [], "errors": {}, "runners": 0}
    helped = run_streamfn("functions", "--help", env=child_env(settings))
    assert helped.returncode == 0 and "ls" in helped.stdout and "rm" in helped.stdout
