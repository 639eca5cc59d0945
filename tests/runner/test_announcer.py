"""Registry report: what a runner publishes, how fast changes show, and withdrawal on stop."""

from __future__ import annotations

import os
from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path

from redis.asyncio import Redis

from streamfn import __version__, pauses
from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.registry import Catalog, RunnerReport, read_catalog
from streamfn.settings import Settings
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


async def test_a_stopped_runner_leaves_its_functions_deployed_seen_at_the_stop(
    fdir: Path, redis: Redis, keys: Keys, start_runner: StartRunner
) -> None:
    write_function(fdir, "kept", ASYNC + "PARTITIONS = 2\n")
    runner = await start_runner()
    await wait_for(lambda: _has(redis, keys, "kept"), 5, "kept loaded")
    before = await _redis_ms(redis)
    await stop(runner)
    view = await catalog(redis, keys)
    entry = view.functions["kept"]
    assert (entry["state"], entry["runners"], entry["partitions"]) == ("no_runner", 0, 2)
    assert entry["last_seen_at"] >= before - 1000, "the withdrawal marks it seen at the stop"
    assert not await redis.hexists(keys.removed, "kept")


async def test_a_file_removed_is_recorded_removed_once_no_live_runner_loads_it(
    settings: Settings, fdir: Path, redis: Redis, keys: Keys, start_runner: StartRunner
) -> None:
    other_dir = fdir.parent / "other"
    other_dir.mkdir()
    for d in (fdir, other_dir):
        write_function(d, "gone", ASYNC)
    first = await start_runner()
    second = await start_runner(replace(settings, functions_dir=other_dir))

    async def runners_loading() -> int:
        return (await catalog(redis, keys)).functions.get("gone", {}).get("runners", 0)

    await wait_for(lambda: _equals(runners_loading(), 2), 5, "both runners loading gone")
    (fdir / "gone.py").unlink()
    await wait_for(lambda: _equals(runners_loading(), 1), 2, "the first runner dropping it")

    async def reported_removed() -> bool:
        return "gone" in await _removed_in_report(redis, keys, first.consumer)

    await wait_for(reported_removed, 2, "the first runner reporting the file gone")
    view = await catalog(redis, keys)
    assert view.functions["gone"]["state"] == "live", "the second runner still has it"
    assert not await redis.hexists(keys.removed, "gone")

    (other_dir / "gone.py").unlink()

    async def removed() -> bool:
        return "gone" in (await catalog(redis, keys)).removed

    assert await wait_for(removed, 2, "removed from every runner") < 2
    await wait_for(lambda: redis.hexists(keys.removed, "gone"), 2, "the removal recorded")
    await stop(first)
    await stop(second)
    entry = (await catalog(redis, keys)).removed["gone"]
    assert entry["reason"] == "file_removed", "still removed once its runners are gone"


async def test_a_functions_directory_that_vanishes_removes_nothing(
    fdir: Path, redis: Redis, keys: Keys, start_runner: StartRunner
) -> None:
    write_function(fdir, "kept", ASYNC)
    runner = await start_runner()
    await wait_for(lambda: _has(redis, keys, "kept"), 5, "kept loaded")
    moved = fdir.with_name("unmounted")
    os.rename(fdir, moved)

    async def dir_error() -> bool:
        return str(fdir) in (await catalog(redis, keys)).errors

    await wait_for(dir_error, 2, "the missing directory reported")
    view = await catalog(redis, keys)
    assert view.functions["kept"]["state"] == "no_runner" and view.removed == {}
    os.rename(moved, fdir)
    await wait_for(lambda: _has(redis, keys, "kept"), 2, "kept loaded again")
    await stop(runner)


async def _has(redis: Redis, keys: Keys, fn: str) -> bool:
    return (await catalog(redis, keys)).functions.get(fn, {}).get("state") == "live"


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _removed_in_report(redis: Redis, keys: Keys, runner_id: str) -> dict[str, int]:
    raw = await redis.get(keys.runner(runner_id))
    return RunnerReport.from_json(raw).removed if raw else {}


async def _redis_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_report_says_version_start_heartbeat_load_lease_and_pauses(
    fdir: Path,
    redis: Redis,
    keys: Keys,
    settings: Settings,
    start_runner: StartRunner,
    tmp_path: Path,
) -> None:
    """What GET /runners shows, and a pause is re-published at once (not at the heartbeat)."""
    gate = tmp_path / "gate"
    write_function(
        fdir,
        "hold",
        f"import asyncio, os\nasync def handle(payload, ctx):\n"
        f"    while not os.path.exists({str(gate)!r}):\n        await asyncio.sleep(0.02)\n",
    )
    write_function(fdir, "free", ASYNC)
    # Heartbeats 10 s apart: a report sooner than that was published on purpose.
    runner = await start_runner(replace(settings, visibility_timeout=30.0), concurrency=5)
    client = Client(redis, runner.settings)
    first = await client.enqueue("hold", 1)
    await client.enqueue("hold", 2)

    async def reported() -> RunnerReport | None:
        reports = (await catalog(redis, keys)).runners
        return reports[0] if reports and reports[0].in_flight == 2 else None

    runner.parts.announcer.wake()
    await wait_for(lambda: runner.parts.executor.running == 2, 5, "both to run")
    runner.parts.announcer.wake()
    await wait_for(reported, 5, "a report with two in flight")
    report = await reported()
    assert report is not None
    assert report.version == __version__
    assert 0 < report.started_ms <= report.at_ms
    lease = report.oldest_lease
    assert lease is not None and (lease.invocation_id, lease.queue) == (first.id, "hold")
    assert report.started_ms <= lease.since_ms <= report.at_ms
    assert report.paused == []

    await pauses.pause(redis, keys, "free")
    await pauses.pause(redis, keys, "elsewhere")  # not loaded here: not in its report

    async def paused_shown() -> bool:
        return (await catalog(redis, keys)).runners[0].paused == ["free"]

    await wait_for(paused_shown, 3, "the pause in the report, well before a heartbeat (10 s)")
    gate.touch()
    await wait_for(lambda: runner.parts.executor.running == 0, 5, "both to finish")
