"""Schedules in a runner: its timekeeper fires due schedules, file-declared ``SCHEDULE``s
follow their files, and lateness is measured where a fire starts."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.registry import read_catalog
from streamfn.runner.discovery import Discovery
from streamfn.runner.lateness import ScheduleLateness
from streamfn.runner.metrics import Metrics
from streamfn.runner.scheduling import DeclaredSync
from streamfn.schedules import ScheduleStore, parse_definition
from streamfn.settings import Settings
from streamfn.timekeeping.clock import RedisClock
from tests.runner.conftest import StartRunner, lines, recorder, wait_for, write_function

TICK = """
async def handle(payload, ctx):
    record(ctx.invocation_id, ctx.attempt)
"""

DECLARED = """
SCHEDULE = {schedule!r}

async def handle(payload, ctx):
    return payload
"""


def declaring(schedule: object) -> str:
    return DECLARED.format(schedule=schedule)


@pytest.fixture
def store(redis: Redis, keys: Keys) -> ScheduleStore:
    return ScheduleStore(redis, keys)


async def ids_of(store: ScheduleStore, function: str) -> list[str]:
    return [s.id for s in await store.list_schedules(function)]


@pytest.mark.timeout(30)
async def test_runner_fires_schedules_and_measures_lateness(
    fdir: Path,
    tmp_path: Path,
    store: ScheduleStore,
    redis: Redis,
    keys: Keys,
    start_runner: StartRunner,
) -> None:
    log = tmp_path / "ticks.log"
    write_function(fdir, "tick", recorder(log, TICK))
    runner = await start_runner()
    await store.put(parse_definition({"function": "tick", "cron": "* * * * * *"}, schedule_id="t"))
    # A schedule of a function this runner has not loaded fires too: into its stream, where
    # the fires wait for a runner that serves it, like any invocation accepted meanwhile.
    await store.put(parse_definition({"function": "other", "every": "1s"}, schedule_id="o"))
    await wait_for(lambda: len(lines(log)) >= 2, 10, "two scheduled fires to run")
    ran = [row[0] for row in lines(log)]
    assert len(ran) == len(set(ran))
    record: Any = await redis.hgetall(keys.invocation("tick", ran[0]))
    assert record[b"x_schedule"] == b"t"
    assert int(record[b"x_planned"]) % 1000 == 0

    async def other_fired() -> bool:
        other = await store.get("o")
        return other is not None and other.fire_count >= 1

    await wait_for(other_fired, 5, "the unloaded function's schedule to fire")
    assert await redis.xlen(keys.stream("other")) >= 1

    registry = runner.parts.metrics.registry
    labels = {"function": "tick"}
    count = registry.get_sample_value("streamfn_schedule_lateness_seconds_count", labels)
    total = registry.get_sample_value("streamfn_schedule_lateness_seconds_sum", labels)
    assert count is not None and count >= 2
    assert total is not None and 0 <= total / count < 1.0


async def test_lateness_is_start_minus_planned_for_first_attempts_only(redis: Redis) -> None:
    clock = RedisClock(redis)
    await clock.measure()
    metrics = Metrics(lambda name: name == "fn")
    lateness = ScheduleLateness(clock, metrics)
    planned = int(clock.now_ms()) - 250
    seconds = lateness.observe("fn", {b"id": b"fn.x", b"a": b"1", b"pl": str(planned).encode()})
    assert seconds is not None and 0.25 <= seconds < 0.5
    assert lateness.observe("fn", {b"id": b"fn.x", b"a": b"2"}) is None  # a retry: no "pl"
    assert lateness.observe("fn", {b"pl": b"garbage"}) is None
    assert lateness.observe("fn", None) is None
    early = lateness.observe("fn", {b"pl": str(int(clock.now_ms()) + 5000).encode()})
    assert early == 0.0  # clock estimate error never shows as a negative lateness
    count = metrics.registry.get_sample_value(
        "streamfn_schedule_lateness_seconds_count", {"function": "fn"}
    )
    assert count == 2


@pytest.mark.timeout(30)
async def test_declared_schedules_follow_their_file(
    fdir: Path,
    store: ScheduleStore,
    start_runner: StartRunner,
    caplog: pytest.LogCaptureFixture,
    redis: Redis,
    keys: Keys,
) -> None:
    await start_runner()
    write_function(fdir, "report", declaring("0 3 * * *"))
    # Bounds are generous: this checks what happens, not how fast (a loaded 2-core machine
    # running the cluster tier once took over 2 s).
    await wait_for(lambda: _has(store, "file.report.1", "0 3 * * *"), 10, "the declared schedule")

    write_function(
        fdir,
        "report",
        declaring(
            [
                {"name": "nightly", "cron": "0 4 * * *", "timezone": "Europe/Berlin"},
                {"name": "poll", "every": "30s", "misfire": "skip"},
            ]
        ),
    )
    await wait_for(lambda: _ids(store, "report", ["file.report.nightly", "file.report.poll"]), 10)
    nightly = await store.get("file.report.nightly")
    assert nightly is not None
    assert nightly.definition.spec.timezone == "Europe/Berlin"
    assert nightly.definition.source == "file:report.py"

    # An invalid SCHEDULE is logged; the last good version stays.
    with caplog.at_level(logging.ERROR, logger="streamfn.runner.scheduling"):
        write_function(fdir, "report", declaring({"cron": "99 * * * *"}))
        await wait_for(lambda: "report.py SCHEDULE" in caplog.text, 10, "the error logged")
    assert "not valid" in caplog.text
    assert await ids_of(store, "report") == ["file.report.nightly", "file.report.poll"]
    # ... and shown in GET /functions under errors, while the function itself still serves.
    await wait_for(lambda: _reported_error(redis, keys, "report.py"), 5, "the error reported")
    catalog = await read_catalog(redis, keys)
    assert "report" in catalog.functions
    assert "not valid" in catalog.errors["report.py"]

    (fdir / "report.py").unlink()
    await wait_for(lambda: _ids(store, "report", []), 10, "the schedules removed")
    await wait_for(
        lambda: _reported_error(redis, keys, "report.py", present=False), 5, "the error withdrawn"
    )


async def _reported_error(redis: Redis, keys: Keys, file: str, *, present: bool = True) -> bool:
    return (file in (await read_catalog(redis, keys)).errors) == present


async def _has(store: ScheduleStore, sid: str, expr: str) -> bool:
    found = await store.get(sid)
    return found is not None and found.definition.spec.expr == expr


async def _ids(store: ScheduleStore, function: str, wanted: list[str]) -> bool:
    return await ids_of(store, function) == wanted


@pytest.mark.timeout(30)
async def test_two_runners_syncing_one_file_create_one_schedule(
    fdir: Path, store: ScheduleStore, start_runner: StartRunner
) -> None:
    write_function(fdir, "report", declaring({"name": "n", "every": "1h"}))
    await start_runner()
    await wait_for(lambda: _ids(store, "report", ["file.report.n"]), 2, "the first sync")
    first = await store.get("file.report.n")
    others = [await start_runner(), await start_runner()]
    for other in others:  # each syncs at start; an unchanged definition writes nothing
        synced = other.parts.scheduling.declared.synced
        await wait_for(lambda s=synced: "report" in s, 2, "the other runners' sync")
    again = await store.get("file.report.n")
    assert first is not None and again is not None
    assert (again.rev, again.created_ms, again.updated_ms) == (
        first.rev,
        first.created_ms,
        first.updated_ms,
    )
    assert await ids_of(store, "report") == ["file.report.n"]


async def test_import_failure_and_missing_directory_delete_nothing(
    settings: Settings, fdir: Path, store: ScheduleStore, tmp_path: Path
) -> None:
    write_function(fdir, "report", declaring("30s"))
    discovery = Discovery(settings)
    await discovery.scan()
    sync = DeclaredSync(store, discovery)
    await sync.tick()
    assert await ids_of(store, "report") == ["file.report.1"]

    # A file that fails to import keeps its schedules (like its handler: the last good one).
    write_function(fdir, "report", "raise RuntimeError('half-written')\n")
    await discovery.scan()
    assert "report.py" in discovery.errors
    await sync.tick()
    assert await ids_of(store, "report") == ["file.report.1"]
    write_function(fdir, "report", declaring("30s"))
    await discovery.scan()

    moved = tmp_path / "unmounted"
    os.rename(fdir, moved)
    await discovery.scan()
    assert "report" not in discovery.functions
    await sync.tick()
    assert await ids_of(store, "report") == ["file.report.1"]  # not a deletion
    os.rename(moved, fdir)
    await discovery.scan()
    os.unlink(fdir / "report.py")
    await discovery.scan()
    await sync.tick()
    assert await ids_of(store, "report") == []


async def test_periodic_resync_heals_a_deleted_schedule(
    settings: Settings, fdir: Path, store: ScheduleStore
) -> None:
    write_function(fdir, "report", declaring("30s"))
    discovery = Discovery(settings)
    await discovery.scan()
    sync = DeclaredSync(store, discovery, resync_interval=3600)
    await sync.tick()
    assert await store.delete("file.report.1")
    await sync.tick()
    assert await ids_of(store, "report") == []  # nothing changed on disk, no resync due yet
    sync.resync_interval = 0.0
    await sync.tick()  # the periodic full sync writes it again
    assert await ids_of(store, "report") == ["file.report.1"]


async def test_a_file_without_schedule_deletes_what_it_declared_before(
    settings: Settings, fdir: Path, store: ScheduleStore
) -> None:
    write_function(fdir, "report", declaring(["1m", "1h"]))
    discovery = Discovery(replace(settings))
    await discovery.scan()
    sync = DeclaredSync(store, discovery)
    await sync.tick()
    assert await ids_of(store, "report") == ["file.report.1", "file.report.2"]
    await store.put(parse_definition({"function": "report", "every": "5m"}, schedule_id="mine"))
    write_function(fdir, "report", "async def handle(payload, ctx):\n    return 1\n")
    await discovery.scan()
    await sync.tick()
    assert await ids_of(store, "report") == ["mine"]  # API schedules are not the file's
