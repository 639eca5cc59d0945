"""Bounded outcomes: a result over STREAMFN_MAX_RESULT fails the attempt for good and stores
nothing large; error messages and tracebacks are cut with a marker."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.settings import Settings
from tests.runner.conftest import StartRunner, wait_final, write_function

BIG = """
ISOLATE = {isolate}
RETRIES = 3
{kind} handle(payload, ctx):
    return "x" * payload["n"]
"""


@pytest.mark.parametrize(
    ("name", "kind", "isolate"),
    [("big_async", "async def", False), ("big_thread", "def", False), ("big_iso", "def", True)],
)
async def test_a_result_over_the_limit_fails_for_good_and_stores_nothing_large(
    fdir: Path,
    settings: Settings,
    redis: Redis,
    start_runner: StartRunner,
    name: str,
    kind: str,
    isolate: bool,
) -> None:
    write_function(fdir, name, BIG.format(kind=kind, isolate=isolate))
    await start_runner(replace(settings, max_result=10_000))
    client = Client(redis, settings)
    fits = await client.enqueue(name, {"n": 9_990})  # 9,992 bytes with the quotes
    over = await client.enqueue(name, {"n": 20_000})
    ok, bad = await wait_final(client, [fits.id, over.id])
    assert ok.status == "succeeded" and len(ok.result) == 9_990
    assert bad.status == "dead"
    assert bad.attempt == 1, "a result as large again is no reason to retry"
    assert bad.result is None
    assert bad.error["type"] == "ResultTooLarge"
    assert "20002 bytes" in bad.error["message"]
    assert "10000 bytes" in bad.error["message"]
    assert "STREAMFN_MAX_RESULT" in bad.error["message"]
    record = Keys.of(settings).invocation(name, over.id)
    assert int(await redis.memory_usage(record) or 0) < 4_000


async def test_the_default_limit_refuses_a_20_mib_result(
    fdir: Path, settings: Settings, redis: Redis, start_runner: StartRunner
) -> None:
    assert settings.max_result == 1024 * 1024
    write_function(fdir, "huge", BIG.format(kind="def", isolate=True))
    await start_runner()
    client = Client(redis, settings)
    queued = await client.enqueue("huge", {"n": 20 * 1024 * 1024})
    (inv,) = await wait_final(client, [queued.id], timeout=30)
    assert inv.status == "dead" and inv.error["type"] == "ResultTooLarge"
    assert f"over the limit of {1024 * 1024} bytes" in inv.error["message"]
    record = Keys.of(settings).invocation("huge", queued.id)
    assert int(await redis.memory_usage(record) or 0) < 4_000
    (dead,) = await client.dead_letters("huge")
    assert dead.invocation_id == queued.id


LOUD = """
ISOLATE = {isolate}
RETRIES = 0
def deep(n):
    if n == 0:
        raise ValueError("m" * 5_000_000)
    return deep(n - 1)

{kind} handle(payload, ctx):
    deep(200)
"""


@pytest.mark.parametrize(
    ("name", "kind", "isolate"), [("loud_async", "async def", False), ("loud_iso", "def", True)]
)
async def test_huge_error_messages_and_tracebacks_are_cut_with_a_marker(
    fdir: Path,
    settings: Settings,
    redis: Redis,
    start_runner: StartRunner,
    name: str,
    kind: str,
    isolate: bool,
) -> None:
    write_function(fdir, name, LOUD.format(kind=kind, isolate=isolate))
    await start_runner()
    client = Client(redis, settings)
    queued = await client.enqueue(name)
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "dead"
    message, trace = inv.error["message"], inv.error["traceback"]
    assert message.startswith("mmmm") and len(message) < 2_100
    assert message.endswith(f"[{5_000_000 - 2_000} more characters cut]")
    assert len(trace) < 8_100
    assert trace.startswith("[") and "earlier characters cut] ..." in trace
    record = Keys.of(settings).invocation(name, queued.id)
    assert int(await redis.memory_usage(record) or 0) < 30_000
