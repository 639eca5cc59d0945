"""``streamfn schedule add|ls|rm|pause|resume``: straight to Redis, the same checks as HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from streamfn.cli.schedule_cmd import build_parser, run
from streamfn.keys import Keys
from streamfn.launch import free_port
from streamfn.registry import RunnerReport, publish
from streamfn.schedules import ScheduleStore
from streamfn.schedules.definition import MISFIRE_POLICIES
from streamfn.settings import Settings
from tests.support.run_cli import child_env, run_streamfn

Capture = pytest.CaptureFixture[str]


async def cli(settings: Settings, *argv: str) -> int:
    """Run ``streamfn schedule ARGV`` in a thread (it runs its own event loop)."""
    return await asyncio.to_thread(run, build_parser().parse_args(list(argv)), settings)


@pytest.fixture
def store(redis: Redis, keys: Keys) -> ScheduleStore:
    return ScheduleStore(redis, keys)


async def test_add_prints_the_schedule_and_notes_an_unloaded_function(
    settings: Settings, store: ScheduleStore, capsys: Capture
) -> None:
    assert await cli(settings, "add", "echo", "--cron", "*/5 * * * * *") == 0
    out, err = capsys.readouterr()
    shown = json.loads(out)
    assert (shown["function"], shown["cron"], shown["state"]) == ("echo", "*/5 * * * * *", "active")
    assert "no live runner has loaded 'echo'" in err
    assert [s.id for s in await store.list_schedules()] == [shown["id"]]


async def test_add_with_every_options_and_id_is_an_upsert(
    settings: Settings, store: ScheduleStore, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    report = RunnerReport("r1", {"echo": {}}, {})
    await publish(redis, keys, report, ttl_s=60, now_ms=int(time.time() * 1000))
    argv = ["add", "echo", "--every", "30s", "--id", "poll", "--payload", '{"a": 1}']
    argv += ["--misfire", "catch_up", "--catch-up-max", "5", "--limit", "10"]
    assert await cli(settings, *argv) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == "poll" and shown["payload"] == {"a": 1}
    assert (shown["misfire"], shown["catch_up_max"], shown["limit"]) == ("catch_up", 5, 10)
    cron = ["add", "echo", "--cron", "0 3 * * *", "--timezone", "Europe/Berlin", "--id", "poll"]
    assert await cli(settings, *cron) == 0
    err = capsys.readouterr().err
    assert err == ""  # echo is loaded by a live runner: no note
    found = await store.get("poll")
    assert found is not None and found.definition.spec.expr == "0 3 * * *"
    assert found.definition.spec.timezone == "Europe/Berlin"
    assert len(await store.list_schedules()) == 1


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["add", "echo", "--every", "0s"], "under 1 second"),
        (["add", "echo", "--cron", "* * *"], "3 fields"),
        (["add", "echo", "--cron", "* * * * *", "--timezone", "Nowhere/Land"], "IANA"),
        (["add", "echo", "--every", "1m", "--payload", "{bad"], "--payload is not JSON"),
        (["add", "echo", "--every", "1m", "--start-at", "2000", "--end-at", "1000"], "end_at"),
        (["add", "Echo", "--every", "1m"], "not a function name"),
        (["add", "echo", "--every", "1m", "--id", "file.echo.1"], "reserved"),
        (["ls", "--function", "Bad"], "invalid function name"),
    ],
)
async def test_invalid_arguments_exit_2_saying_why(
    settings: Settings, store: ScheduleStore, capsys: Capture, argv: list[str], words: str
) -> None:
    assert await cli(settings, *argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and words in err
    assert await store.list_schedules() == []


def test_cron_or_every_is_required(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["add", "echo"])
    assert exited.value.code == 2
    assert "--cron" in capsys.readouterr().err


def test_misfire_choices_are_the_policies() -> None:
    add = build_parser().parse_args(["add", "echo", "--every", "1m", "--misfire", "skip"])
    assert add.misfire == "skip"
    for policy in MISFIRE_POLICIES:
        assert build_parser().parse_args(["add", "f", "--every", "1m", "--misfire", policy])


async def test_ls_table_json_and_by_function(
    settings: Settings, store: ScheduleStore, capsys: Capture
) -> None:
    assert await cli(settings, "add", "echo", "--every", "1m", "--id", "a") == 0
    assert await cli(settings, "add", "sleep", "--cron", "0 3 * * *", "--id", "b") == 0
    capsys.readouterr()
    assert await cli(settings, "ls") == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split()[:5] == ["ID", "FUNCTION", "WHEN", "STATE", "FIRES"]
    assert rows[1].split()[:5] == ["a", "echo", "every", "1m", "active"]
    assert rows[2].split()[:4] == ["b", "sleep", "cron", "0"]
    assert await cli(settings, "ls", "--json", "--function", "sleep") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in listed["schedules"]] == ["b"]


async def test_pause_resume_rm(settings: Settings, store: ScheduleStore, capsys: Capture) -> None:
    assert await cli(settings, "add", "echo", "--every", "1m", "--id", "p") == 0
    capsys.readouterr()
    assert await cli(settings, "pause", "p") == 0
    assert json.loads(capsys.readouterr().out)["state"] == "paused"
    assert await cli(settings, "resume", "p") == 0
    assert json.loads(capsys.readouterr().out)["state"] == "active"
    assert await cli(settings, "rm", "p") == 0
    assert capsys.readouterr().out == "deleted p\n"
    assert await store.get("p") is None
    for action in ("rm", "pause", "resume"):
        assert await cli(settings, action, "p") == 1
        assert "no schedule 'p'" in capsys.readouterr().err


async def test_redis_down_exits_3(settings: Settings, capsys: Capture) -> None:
    down = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert await cli(down, "ls") == 3
    assert "cannot use Redis" in capsys.readouterr().err


def test_streamfn_schedule_command(settings: Settings, redis: Redis) -> None:
    env = child_env(settings)
    added = run_streamfn("schedule", "add", "echo", "--every", "1m", "--id", "x", env=env)
    assert added.returncode == 0, added.stderr
    listed = run_streamfn("schedule", "ls", env=env)
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith("x ")
    helped = run_streamfn("schedule", "--help", env=env)
    assert helped.returncode == 0 and "usage: streamfn schedule" in helped.stdout
    bad = run_streamfn(
        "schedule", "add", "echo", "--every", "1m", env=child_env(settings, STREAMFN_PORT="x")
    )
    assert bad.returncode == 2 and "STREAMFN_PORT" in bad.stderr
