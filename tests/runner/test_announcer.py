"""Registry report: what a runner publishes, how fast changes show, and withdrawal on stop."""

from __future__ import annotations

import os
from pathlib import Path

from redis.asyncio import Redis

from streamfn.keys import GROUP, Keys
from streamfn.registry import Catalog, read_catalog
from tests.runner.conftest import StartRunner, stop, wait_for, write_function

ASYNC = "async def handle(payload, ctx):\n    return payload\n"


async def catalog(redis: Redis, keys: Keys) -> Catalog:
    return await read_catalog(redis, keys)


async def test_report_lists_functions_policies_and_errors(
    fdir: Path, redis: Redis, keys: Keys, start_runner: StartRunner
) -> None:
    write_function(fdir, "fast", ASYNC + "TIMEOUT = 3\nRETRIES = 0\nDEAD_LETTER = False\n")
    write_function(fdir, "plain", "def handle(payload, ctx):\n    return 1\n")
    write_function(fdir, "broken", "import nonexistent_module_xyz\n")
    runner = await start_runner(concurrency=7)

    async def published() -> bool:
        return len((await catalog(redis, keys)).runners) == 1

    await wait_for(published, 5, "the report")
    (report,) = (await catalog(redis, keys)).runners
    assert report.runner_id == runner.consumer
    assert report.pid == os.getpid() and report.concurrency == 7
    assert report.functions == {
        "fast": {
            "timeout": 3.0,
            "retries": 0,
            "backoff": 1.0,
            "backoff_max": 300.0,
            "dead_letter": False,
            "isolate": False,
            "memory_mb": None,
            "partitions": 1,
            "kind": "async",
        },
        "plain": {
            "timeout": 60.0,
            "retries": 3,
            "backoff": 1.0,
            "backoff_max": 300.0,
            "dead_letter": True,
            "isolate": True,  # a plain def handler: STREAMFN_ISOLATE_SYNC
            "memory_mb": None,
            "partitions": 1,
            "kind": "sync",
        },
    }
    assert "ModuleNotFoundError" in report.errors["broken.py"]
    ttl = await redis.pttl(keys.runner(runner.consumer))
    assert 4000 < ttl <= 5000  # 3 heartbeats, at least 5 s
    for name in ("fast", "plain"):
        groups = await redis.xinfo_groups(keys.stream(name))
        assert [g["name"] for g in groups] == [GROUP.encode()]


async def test_changes_show_at_once_and_stop_withdraws(
    fdir: Path, redis: Redis, keys: Keys, start_runner: StartRunner
) -> None:
    runner = await start_runner()

    async def functions() -> set[str]:
        return set((await catalog(redis, keys)).functions)

    async def has_new() -> bool:
        return await functions() == {"added"}

    write_function(fdir, "added", ASYNC)
    assert await wait_for(has_new, 2, "the new function in the catalog") < 2

    async def gone() -> bool:
        return await functions() == set()

    (fdir / "added.py").unlink()
    assert await wait_for(gone, 2, "the removed function to leave the catalog") < 2

    await stop(runner)
    assert (await catalog(redis, keys)).runners == []
    assert not await redis.exists(keys.runner(runner.consumer))
