"""Per-invocation logs, captured by a real runner: ctx.log lines with their levels, one set per
attempt across a retry, the truncation marker, an isolated handler's stdout and stderr, and
the TTL the key takes from its record."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from streamfn import invocation_logs
from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.names import queue_of
from streamfn.settings import Settings
from tests.runner.conftest import StartRunner, wait_final, wait_for, write_function


async def stored(redis: Redis, settings: Settings, invocation_id: str) -> list[dict[str, Any]]:
    queue = queue_of(invocation_id)
    assert queue is not None
    _, fields = await invocation_logs.read(redis, Keys.of(settings), queue, invocation_id)
    return invocation_logs.lines_of(fields)


async def test_ctx_log_lines_are_kept_with_level_and_time(
    fdir: Path, client: Client, redis: Redis, settings: Settings, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "chatty",
        """
        async def handle(payload, ctx):
            ctx.log.info("got %s", payload["n"])
            ctx.log.warning("careful")
            ctx.log.debug("not shown: the runner logs at INFO")
            try:
                1 / 0
            except ZeroDivisionError:
                ctx.log.exception("caught")
            return payload["n"]
        """,
    )
    await start_runner()
    queued = await client.enqueue("chatty", {"n": 7})
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "succeeded"
    lines = await stored(redis, settings, queued.id)
    assert [(x["level"], x["stream"], x["message"].splitlines()[0]) for x in lines] == [
        ("INFO", "log", "got 7"),
        ("WARNING", "log", "careful"),
        ("ERROR", "log", "caught"),
    ]
    assert "ZeroDivisionError" in lines[2]["message"]
    assert {x["attempt"] for x in lines} == {1}
    created = int(queued.id.split(".")[1][:12], 16)
    assert all(created <= x["ts"] < created + 60_000 for x in lines)
    key = Keys.of(settings).logs(queue_of(queued.id) or "", queued.id)
    assert 0 < await redis.pttl(key) <= settings.result_ttl * 1000


async def test_each_attempt_keeps_its_lines_across_a_retry(
    fdir: Path, client: Client, redis: Redis, settings: Settings, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "flaky_logs",
        """
        RETRIES = 2
        BACKOFF = 0.05
        async def handle(payload, ctx):
            ctx.log.info("attempt %d starts", ctx.attempt)
            if ctx.attempt < 3:
                raise RuntimeError("not yet")
            return "ok"
        """,
    )
    await start_runner()
    queued = await client.enqueue("flaky_logs", {})
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "succeeded"
    lines = await stored(redis, settings, queued.id)
    assert [(x["attempt"], x["message"]) for x in lines] == [
        (1, "attempt 1 starts"),
        (2, "attempt 2 starts"),
        (3, "attempt 3 starts"),
    ]
    # the last attempt's write set the record's own TTL (a success: the results TTL)
    key = Keys.of(settings).logs(queue_of(queued.id) or "", queued.id)
    assert 0 < await redis.pttl(key) <= settings.result_ttl * 1000


async def test_a_dead_letter_keeps_its_logs_as_long_as_its_record(
    fdir: Path, client: Client, redis: Redis, settings: Settings, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "doomed_logs",
        """
        from streamfn import PermanentError
        async def handle(payload, ctx):
            ctx.log.error("giving up")
            raise PermanentError("no")
        """,
    )
    await start_runner(replace(settings, result_ttl=100.0, dead_ttl=5000.0))
    queued = await client.enqueue("doomed_logs", {})
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "dead"
    keys = Keys.of(settings)
    queue = queue_of(queued.id) or ""
    assert 100_000 < await redis.pttl(keys.logs(queue, queued.id)) <= 5_000_000
    assert await redis.pttl(keys.invocation(queue, queued.id)) > 100_000


async def test_past_the_bound_the_last_lines_are_kept_with_a_marker(
    fdir: Path, client: Client, redis: Redis, settings: Settings, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "flood",
        """
        RETRIES = 0
        async def handle(payload, ctx):
            for i in range(500):
                ctx.log.info("line %03d %s", i, "x" * 50)
        """,
    )
    await start_runner(replace(settings, log_max_bytes=4096))
    queued = await client.enqueue("flood", {})
    await wait_final(client, [queued.id])
    lines = await stored(redis, settings, queued.id)
    marker, kept = lines[0], lines[1:]
    assert marker["level"] == "WARNING" and "earlier lines" in marker["message"]
    dropped = int(marker["message"].split()[0].lstrip("["))
    assert dropped + len(kept) == 500
    assert kept[-1]["message"].startswith("line 499")
    numbers = [int(x["message"].split()[1]) for x in kept]
    assert numbers == list(range(500 - len(kept), 500)), "the last lines, in order"
    key = Keys.of(settings).logs(queue_of(queued.id) or "", queued.id)
    assert await redis.type(key) == b"hash"
    assert sum(len(v) for v in (await redis.hgetall(key)).values()) <= 4096 + 200


async def test_an_invocation_that_logs_nothing_writes_no_key(
    fdir: Path, client: Client, redis: Redis, settings: Settings, start_runner: StartRunner
) -> None:
    write_function(fdir, "quiet", "async def handle(payload, ctx):\n    return 1\n")
    await start_runner()
    queued = await client.enqueue("quiet", {})
    await wait_final(client, [queued.id])
    key = Keys.of(settings).logs(queue_of(queued.id) or "", queued.id)
    assert await redis.exists(key) == 0


async def test_an_isolated_handler_keeps_its_log_stdout_and_stderr(
    fdir: Path, client: Client, redis: Redis, settings: Settings, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "printer",
        """
        import sys
        ISOLATE = True
        RETRIES = 1
        BACKOFF = 0.05
        def handle(payload, ctx):
            print("to stdout", ctx.attempt)
            print("to stderr", file=sys.stderr)
            ctx.log.info("via ctx.log")
            sys.stdout.write("no newline")
            if ctx.attempt == 1:
                raise RuntimeError("again")
            return "done"
        """,
    )
    await start_runner()
    queued = await client.enqueue("printer", {})
    (inv,) = await wait_final(client, [queued.id], timeout=30)
    assert inv.status == "succeeded"
    lines = await stored(redis, settings, queued.id)
    seen = [(x["attempt"], x["stream"], x["level"], x["message"]) for x in lines]
    for attempt in (1, 2):
        mine = [s[1:] for s in seen if s[0] == attempt]
        assert ("stdout", "INFO", f"to stdout {attempt}") in mine
        assert ("stderr", "WARNING", "to stderr") in mine
        assert ("log", "INFO", "via ctx.log") in mine
        assert ("stdout", "INFO", "no newline") in mine
    # the worker's own log output (ctx.log's line, formatted) is not taken for stderr prints
    assert not [s for s in seen if s[1] == "stderr" and "via ctx.log" in s[3]]


async def test_a_timed_out_attempt_keeps_the_lines_it_logged(
    fdir: Path, client: Client, redis: Redis, settings: Settings, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "stuck_logs",
        """
        import asyncio
        TIMEOUT = 0.2
        RETRIES = 1
        BACKOFF = 0.05
        async def handle(payload, ctx):
            ctx.log.warning("attempt %d before the wait", ctx.attempt)
            if ctx.attempt == 1:
                await asyncio.sleep(30)
            return "ok"
        """,
    )
    await start_runner()
    queued = await client.enqueue("stuck_logs", {})
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "succeeded" and inv.attempt == 2
    lines = await stored(redis, settings, queued.id)
    assert [(x["attempt"], x["message"]) for x in lines] == [
        (1, "attempt 1 before the wait"),
        (2, "attempt 2 before the wait"),
    ]


async def test_a_cancelled_attempt_keeps_its_lines(
    fdir: Path, client: Client, redis: Redis, settings: Settings, start_runner: StartRunner
) -> None:
    log = fdir.parent / "started"
    write_function(
        fdir,
        "cancel_logs",
        f"""
        import asyncio
        async def handle(payload, ctx):
            ctx.log.info("working")
            open({str(log)!r}, "w").close()
            await asyncio.sleep(30)
        """,
    )
    await start_runner()
    queued = await client.enqueue("cancel_logs", {})
    await wait_for(log.exists, 10, "the handler to start")
    accepted, _ = await client.stop(queued.id)
    assert accepted
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "cancelled"
    lines = await stored(redis, settings, queued.id)
    assert [(x["attempt"], x["level"], x["message"]) for x in lines] == [(1, "INFO", "working")]
