"""``streamfn invoke`` against the real test Redis: enqueue, wait, outcomes, Redis down."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from streamfn.cli import main
from streamfn.keys import GROUP, Keys
from streamfn.launch import free_port
from streamfn.rdb import RDB, Completion
from streamfn.settings import Settings
from tests.support.run_cli import child_env, run_streamfn


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    """Point an in-process ``streamfn`` at the test Redis and this test's namespace."""
    for name in list(os.environ):
        if name.startswith("STREAMFN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STREAMFN_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("STREAMFN_NAMESPACE", settings.namespace)
    return settings


async def run_cli(*argv: str) -> int:
    """``main`` in a thread: it runs its own event loop, the test keeps this one."""
    return await asyncio.to_thread(main, list(argv))


def printed(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    out, err = capsys.readouterr()
    return orjson.loads(out), err


async def test_invoke_enqueues_and_prints_the_record(
    cli_env: Settings, redis: Redis, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("invoke", "echo", '{"hello": "world"}') == 0
    body, _ = printed(capsys)
    assert body["function"] == "echo"
    assert body["status"] == "queued"
    record = await redis.hgetall(keys.invocation("echo", body["id"]))
    assert record[b"status"] == b"queued"
    assert orjson.loads(record[b"payload"]) == {"hello": "world"}
    assert await redis.xlen(keys.stream("echo")) == 1


async def test_invoke_without_payload_sends_null(
    cli_env: Settings, redis: Redis, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("invoke", "echo") == 0
    body, _ = printed(capsys)
    record = await redis.hgetall(keys.invocation("echo", body["id"]))
    assert record[b"payload"] == b"null"


async def test_invoke_with_delay_is_scheduled(
    cli_env: Settings, redis: Redis, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("invoke", "echo", "1", "--delay", "60") == 0
    body, _ = printed(capsys)
    assert body["status"] == "scheduled"
    assert body["due_at"] > body["created_at"]
    assert await redis.zscore(keys.timers("echo"), body["id"]) is not None


async def test_invoke_wait_times_out_with_exit_3(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # No runner: the invocation stays queued.
    assert await run_cli("invoke", "echo", "{}", "--wait", "0.3") == 3
    body, err = printed(capsys)
    assert body["status"] == "queued"
    assert "still queued" in err


async def test_invoke_refused_by_the_backlog_cap_exits_75_and_writes_nothing(
    cli_env: Settings,
    redis: Redis,
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STREAMFN_MAX_BACKLOG", "2")
    for n in range(2):
        assert await run_cli("invoke", "echo", str(n)) == 0
    capsys.readouterr()
    assert await run_cli("invoke", "echo", "3") == 75
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert "'echo' has 2 invocations" in err
    assert "cap is 2" in err
    assert "retry later" in err
    assert "Traceback" not in err
    assert await redis.xlen(keys.stream("echo")) == 2
    records = [k async for k in redis.scan_iter(match=keys.invocation("echo", "*"))]
    assert len(records) == 2


async def _act_as_runner(redis: Redis, settings: Settings, **outcome: Any) -> str:
    """Take the next echo entry from the stream and report ``outcome`` through the Lua scripts."""
    keys = Keys.of(settings)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await redis.exists(keys.stream("echo")):
            rows: Any = await redis.xreadgroup(
                GROUP, "t-runner", {keys.stream("echo"): ">"}, count=1
            )
            if rows:
                entry_id, fields = rows[0][1][0]
                inv: str = fields[b"id"].decode()
                done = Completion("echo", entry_id.decode(), inv, duration_ms=1, **outcome)
                (outcome_status,) = await RDB(redis, settings).finish_many("t-runner", [done])
                assert outcome_status in ("succeeded", "dead"), outcome_status
                return inv
        await asyncio.sleep(0.02)
    raise AssertionError("the CLI never enqueued")


async def test_invoke_wait_prints_the_result_and_exits_0(
    cli_env: Settings, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = asyncio.create_task(run_cli("invoke", "echo", '{"n": 1}', "--wait", "10"))
    inv = await _act_as_runner(redis, cli_env, result=b'{"n": 1}')
    assert await asyncio.wait_for(cli, 10) == 0
    body, _ = printed(capsys)
    assert body["id"] == inv
    assert body["status"] == "succeeded"
    assert body["result"] == {"n": 1}


async def test_invoke_wait_on_a_dead_invocation_exits_1(
    cli_env: Settings, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = asyncio.create_task(run_cli("invoke", "echo", "{}", "--wait", "10"))
    error = {"type": "PermanentError", "message": "no"}
    await _act_as_runner(redis, cli_env, error=error, mode="dead")
    assert await asyncio.wait_for(cli, 10) == 1
    body, _ = printed(capsys)
    assert body["status"] == "dead"
    assert body["error"]["message"] == "no"


def test_invoke_with_redis_down_exits_3_without_traceback(settings: Settings) -> None:
    env = child_env(settings, STREAMFN_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    done = run_streamfn("invoke", "echo", '{"a": 1}', env=env)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot reach Redis" in done.stderr
    assert done.stdout == ""


def test_redis_password_is_not_printed(settings: Settings) -> None:
    url = f"redis://user:s3cret@127.0.0.1:{free_port()}/0"
    done = run_streamfn("invoke", "echo", env=child_env(settings, STREAMFN_REDIS_URL=url))
    assert done.returncode == 3
    assert "s3cret" not in done.stderr
