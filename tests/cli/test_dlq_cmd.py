"""``streamfn dlq ls|replay|rm`` and ``streamfn cancel``: dead letters and cancels from Redis."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.cli.dlq_cmd import build_cancel_parser, build_parser, run, run_cancel
from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.launch import free_port
from streamfn.rdb import RDB, Completion
from streamfn.settings import Settings
from tests.support.run_cli import child_env, run_streamfn

Capture = pytest.CaptureFixture[str]


async def dlq(settings: Settings, *argv: str) -> int:
    return await asyncio.to_thread(run, build_parser().parse_args(list(argv)), settings)


async def cancel(settings: Settings, *argv: str) -> int:
    return await asyncio.to_thread(
        run_cancel, build_cancel_parser().parse_args(list(argv)), settings
    )


async def dead(settings: Settings, redis: Redis, keys: Keys, n: int) -> list[str]:
    """``n`` echo invocations, taken and dead-lettered as a runner would."""
    client = Client(redis, settings)
    ids = [(await client.enqueue("echo", {"i": i})).id for i in range(n)]
    rows: Any = await redis.xreadgroup(GROUP, "t", {keys.stream("echo"): ">"}, count=n)
    error = {"type": "PermanentError", "message": "no"}
    done = [
        Completion("echo", e.decode(), f[b"id"].decode(), 1, error=error, mode="dead")
        for e, f in rows[0][1]
    ]
    assert set(await RDB(redis, settings).finish_many("t", done)) == {"dead"}
    return ids


async def test_ls_lists_dead_letters_newest_first(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    ids = await dead(settings, redis, keys, 3)
    assert await dlq(settings, "ls", "--function", "echo", "--json") == 0
    body = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in body["dead_letters"]] == ids[::-1]
    assert await dlq(settings, "ls", "--function", "echo") == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == ids[::-1]
    assert "PermanentError: no" in out[0]


async def test_replay_all_dry_run_changes_nothing_then_replays_each_once(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    ids = await dead(settings, redis, keys, 3)
    assert await dlq(settings, "replay", "--all", "--function", "echo", "--dry-run") == 0
    out, err = capsys.readouterr()
    assert sorted(line.split()[-1] for line in out.splitlines()) == sorted(ids)
    assert "3 dead letters would be touched" in err
    assert await redis.xlen(keys.dead("echo")) == 3 and await redis.xlen(keys.stream("echo")) == 0

    assert await dlq(settings, "replay", "--all", "--function", "echo", "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(ids) and all(r["done"] for r in rows)
    assert await redis.xlen(keys.dead("echo")) == 0 and await redis.xlen(keys.stream("echo")) == 3
    # Again, by id: each is queued now, so it is skipped, never queued twice.
    assert await dlq(settings, "replay", *ids) == 1
    assert "0 replayed, 3 skipped" in capsys.readouterr().err
    assert await redis.xlen(keys.stream("echo")) == 3


async def test_rm_deletes_the_dead_letter_and_its_record(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    gone, kept = await dead(settings, redis, keys, 2)
    assert await dlq(settings, "rm", gone) == 0
    assert f"deleted {gone}" in capsys.readouterr().out
    client = Client(redis, settings)
    assert await client.get(gone) is None
    assert [d.invocation_id for d in await client.dead_letters("echo")] == [kept]
    assert await dlq(settings, "rm", gone) == 1
    assert "not_found" in capsys.readouterr().out


async def test_cancel_a_queued_invocation_and_refuse_a_finished_one(
    settings: Settings, redis: Redis, keys: Keys, capsys: Capture
) -> None:
    (finished,) = await dead(settings, redis, keys, 1)
    client = Client(redis, settings)
    queued = (await client.enqueue("echo", {})).id
    assert await cancel(settings, queued, "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "id": queued,
        "cancelled": True,
        "status": "cancelled",
    }
    got = await client.get(queued)
    assert got is not None and got.status == "cancelled"
    assert await cancel(settings, finished) == 1
    assert "not cancelled (dead)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ("dlq", "replay"),  # neither ids nor --all
        ("dlq", "replay", "--all"),  # --all without --function
        ("dlq", "rm", "echo.xyz"),
        ("dlq", "ls", "--function", "Bad-Name"),
        ("cancel", "not-an-id"),
    ],
)
def test_bad_arguments_exit_2_without_traceback(settings: Settings, argv: tuple[str, ...]) -> None:
    done = run_streamfn(*argv, env=child_env(settings))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


def test_redis_down_exits_3(settings: Settings) -> None:
    env = child_env(settings, STREAMFN_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    done = run_streamfn("dlq", "ls", "--function", "echo", env=env)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "cannot use Redis" in done.stderr
