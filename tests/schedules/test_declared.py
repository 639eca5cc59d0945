"""SCHEDULE in function files: parsing, sync, removal, and concurrent syncs by many runners."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.schedules.declared import parse_declared, remove_declared, sync_declared
from streamfn.schedules.definition import Misfire, parse_definition
from streamfn.schedules.spec import ScheduleError
from streamfn.schedules.store import ScheduleStore
from streamfn.settings import Settings


def test_a_string_is_a_cron_or_an_interval() -> None:
    (cron,) = parse_declared("echo", "*/5 * * * * *")
    assert (cron.id, cron.spec.kind, cron.spec.expr) == ("file.echo.1", "cron", "*/5 * * * * *")
    assert cron.source == "file:echo.py"
    (every,) = parse_declared("echo", "1h30m")
    assert (every.spec.kind, every.spec.interval_ms) == ("every", 5_400_000)


def test_a_dict_and_a_list_with_names() -> None:
    value: list[Any] = [
        {"cron": "0 3 * * *", "timezone": "Europe/Berlin", "payload": {"x": 1}, "name": "nightly"},
        {"every": "30s", "misfire": "catch_up", "catch_up_max": 3},
        "@hourly",
    ]
    a, b, c = parse_declared("report", value)
    assert [a.id, b.id, c.id] == ["file.report.nightly", "file.report.2", "file.report.3"]
    assert a.function == "report" and a.payload == b'{"x":1}' and a.spec.timezone == "Europe/Berlin"
    assert b.misfire == Misfire("catch_up", 3)
    assert parse_declared("echo", None) == [] and parse_declared("echo", []) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"cron": "61 * * * *"}, r"functions/echo.py SCHEDULE: cron '61 \* \* \* \*' is not"),
        ([{"every": "1s"}, {"every": "0s"}], r"SCHEDULE\[1\]: every '0s' is under 1 second"),
        ({"every": "1s", "function": "other"}, "'function' is implied by the file"),
        ([{"every": "1s", "name": "a"}, {"every": "2s", "name": "a"}], "used twice"),
        ({"every": "1s", "name": "has space"}, "name 'has space' is not valid"),
        (42, "42 is not a schedule"),
        ({"every": "1s", "evry": 1}, "unknown field"),
    ],
)
def test_invalid_declarations_name_the_file_and_entry(value: object, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_declared("echo", value)


async def test_sync_adds_updates_and_removes(store: ScheduleStore) -> None:
    first = await sync_declared(store, "echo", [{"every": "1m", "name": "a"}, "@daily"])
    assert (first.created, first.deleted) == (["file.echo.a", "file.echo.2"], [])
    again = await sync_declared(store, "echo", [{"every": "1m", "name": "a"}, "@daily"])
    assert again.unchanged == ["file.echo.a", "file.echo.2"] and not again.created
    edited = await sync_declared(store, "echo", {"every": "2m", "name": "a"})
    assert (edited.updated, edited.deleted) == (["file.echo.a"], ["file.echo.2"])
    got = await store.get("file.echo.a")
    assert got is not None and got.definition.spec.expr == "2m"
    assert [s.id for s in await store.list_schedules()] == ["file.echo.a"]


async def test_sync_leaves_api_schedules_and_other_files_alone(store: ScheduleStore) -> None:
    await store.put(parse_definition({"id": "mine", "function": "echo", "every": "1m"}))
    await sync_declared(store, "other", "@hourly")
    await sync_declared(store, "echo", "@hourly")
    await sync_declared(store, "echo", None)
    assert [s.id for s in await store.list_schedules()] == ["file.other.1", "mine"]


async def test_an_invalid_file_changes_nothing(store: ScheduleStore) -> None:
    await sync_declared(store, "echo", "@hourly")
    with pytest.raises(ScheduleError):
        await sync_declared(store, "echo", [{"every": "1m"}, {"cron": "bad"}])
    assert [s.id for s in await store.list_schedules()] == ["file.echo.1"]


async def test_remove_declared(store: ScheduleStore) -> None:
    await sync_declared(store, "echo", ["@hourly", "@daily"])
    assert sorted(await remove_declared(store, "echo")) == ["file.echo.1", "file.echo.2"]
    assert await store.list_schedules() == []
    assert await remove_declared(store, "echo") == []


async def test_ten_runners_syncing_at_once_create_each_schedule_once(
    settings: Settings, keys: Keys, redis: Redis, store: ScheduleStore
) -> None:
    clients = [make_redis(settings) for _ in range(10)]
    value = [{"cron": "* * * * * *", "name": "a"}, {"every": "5s", "name": "b"}]
    try:
        reports = await asyncio.gather(
            *(sync_declared(ScheduleStore(c, keys), "echo", value) for c in clients)
        )
    finally:
        for c in clients:
            await c.aclose()
    created = sorted(sid for r in reports for sid in r.created)
    assert created == ["file.echo.a", "file.echo.b"]
    assert all(not r.updated and not r.deleted for r in reports)
    schedules = await store.list_schedules()
    assert [s.id for s in schedules] == ["file.echo.a", "file.echo.b"]
    assert all(s.updated_ms == s.created_ms for s in schedules)  # written once each
    assert await redis.zcard(keys.schedules("echo")) == 2
