"""``streamfn logs ID``: an invocation's lines from Redis (text and --json), --follow across a
retry with a real runner (each line printed once), and the exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from streamfn.cli.logs_cmd import build_parser, run
from streamfn.client import Client
from streamfn.runner.supervisor import Runner
from streamfn.settings import Settings
from tests.runner.conftest import wait_final, write_function

Capture = pytest.CaptureFixture[str]

CHATTY = """
RETRIES = 1
BACKOFF = 0.3
async def handle(payload, ctx):
    ctx.log.info("hello from attempt %d", ctx.attempt)
    if ctx.attempt == 1:
        ctx.log.error("failing once")
        raise RuntimeError("again")
    return "ok"
"""


async def cli(settings: Settings, *argv: str) -> int:
    """Run ``streamfn logs ARGV`` in a thread (it runs its own event loop)."""
    return await asyncio.to_thread(run, build_parser().parse_args(list(argv)), settings)


@pytest.fixture
async def client(redis: Redis, settings: Settings) -> Client:
    return Client(redis, settings)


@pytest.fixture
async def runner(settings: Settings) -> AsyncIterator[Runner]:
    write_function(Path(settings.functions_dir), "chatty", CHATTY)
    runner = Runner(settings)
    task = asyncio.create_task(runner.serve())
    async with asyncio.timeout(10):
        await runner.started.wait()
    yield runner
    runner.request_stop()
    runner.request_stop()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(15):
            await task


async def test_prints_each_attempts_lines(
    settings: Settings, client: Client, runner: Runner, capsys: Capture
) -> None:
    queued = await client.enqueue("chatty", {})
    await wait_final(client, [queued.id])
    capsys.readouterr()
    assert await cli(settings, queued.id) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 1)[1] for line in out] == [
        "#1 INFO    log    hello from attempt 1",
        "#1 ERROR   log    failing once",
        "#2 INFO    log    hello from attempt 2",
    ]
    assert await cli(settings, queued.id, "--json", "--attempt", "2") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["id"] == queued.id
    assert [(x["attempt"], x["message"]) for x in body["lines"]] == [(2, "hello from attempt 2")]


async def test_follow_prints_every_line_once_until_it_finishes(
    settings: Settings, client: Client, runner: Runner, capsys: Capture
) -> None:
    queued = await client.enqueue("chatty", {}, delay=0.3)
    code = await cli(settings, queued.id, "--follow", "--json", "--interval", "0.05")
    assert code == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["attempt"], x["message"]) for x in lines] == [
        (1, "hello from attempt 1"),
        (1, "failing once"),
        (2, "hello from attempt 2"),
    ]
    inv = await client.get(queued.id)
    assert inv is not None and inv.status == "succeeded"


async def test_follow_gives_up_after_its_timeout(
    settings: Settings, client: Client, capsys: Capture
) -> None:
    queued = await client.enqueue("chatty", {})  # no runner: it stays queued
    code = await cli(settings, queued.id, "--follow", "--timeout", "0.3", "--interval", "0.1")
    assert code == 4
    assert "still queued" in capsys.readouterr().err


async def test_unknown_and_malformed_ids(settings: Settings, capsys: Capture) -> None:
    assert await cli(settings, "chatty." + "0" * 24) == 1
    assert "no invocation" in capsys.readouterr().err
    assert await cli(settings, "chatty.nothex") == 2
    assert "invalid invocation id" in capsys.readouterr().err
    assert await cli(settings, "chatty." + "0" * 24, "--attempt", "0") == 2


async def test_redis_down_is_exit_3(settings: Settings, capsys: Capture) -> None:
    from dataclasses import replace

    from streamfn.launch import free_port

    down = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert await cli(down, "chatty." + "0" * 24) == 3
    assert "cannot use Redis" in capsys.readouterr().err
