"""Execution: async and sync handlers, timeouts, permanent errors, bad results, bad entries,
and retries with growing gaps ending in the dead-letter stream."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.keys import Keys
from tests.runner.conftest import StartRunner, lines, recorder, wait_final, write_function

CONTEXT = """
import threading
from streamfn import PermanentError

async def handle(payload, ctx):
    return {
        "payload": payload,
        "id": ctx.invocation_id,
        "function": ctx.function,
        "attempt": ctx.attempt,
        "remaining": ctx.remaining(),
        "thread": threading.current_thread().name,
    }
"""


async def test_async_handler_gets_payload_and_context(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    write_function(fdir, "ctxecho", CONTEXT + "TIMEOUT = 30\n")
    await start_runner()
    queued = await client.enqueue("ctxecho", {"x": [1, 2]})
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "succeeded"
    result = inv.result
    assert result["payload"] == {"x": [1, 2]}
    assert (result["id"], result["function"], result["attempt"]) == (queued.id, "ctxecho", 1)
    assert 29 < result["remaining"] <= 30
    assert result["thread"] == "MainThread"
    assert inv.duration_ms is not None


async def test_sync_handler_runs_in_a_worker_thread(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "blocking",
        """
        import threading, time
        ISOLATE = False  # in-process: a runner thread (isolated handlers: test_isolation.py)
        def handle(payload, ctx):
            time.sleep(0.2)  # blocks its thread, not the event loop
            return {"thread": threading.current_thread().name, "n": payload["n"]}
        """,
    )
    await start_runner(concurrency=10)
    ids = await client.enqueue_many("blocking", [{"n": i} for i in range(10)])
    started = time.monotonic()
    invs = await wait_final(client, ids)
    assert time.monotonic() - started < 1.5, "ten 0.2 s sleeps ran in parallel threads"
    assert [i.result["n"] for i in invs] == list(range(10))
    assert all(i.result["thread"].startswith("handler") for i in invs)


async def test_timeouts_are_retried_then_dead_lettered(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    body = "TIMEOUT = 0.2\nRETRIES = 1\nBACKOFF = 0.05\n"
    write_function(
        fdir,
        "slow_async",
        "import asyncio\n"
        + body
        + """
async def handle(payload, ctx):
    await asyncio.sleep(5)
""",
    )
    write_function(
        fdir,
        "slow_sync",
        "import time\n"
        + body
        + """
def handle(payload, ctx):
    time.sleep(0.6)
""",
    )
    runner = await start_runner(concurrency=4)
    a = await client.enqueue("slow_async")
    s = await client.enqueue("slow_sync")
    invs = await wait_final(client, [a.id, s.id])
    for inv in invs:
        assert inv.status == "dead"
        assert inv.attempt == 2
        assert inv.error["type"] == "TimeoutError"
        assert inv.error["message"].startswith("timed out after 0.2 s")
    dead = await client.dead_letters("slow_async")
    assert [d.invocation_id for d in dead] == [a.id]
    # slow_sync is isolated (STREAMFN_ISOLATE_SYNC): its worker was killed, nothing is stuck.
    assert runner.parts.executor.stuck == 0


async def test_a_handlers_own_timeout_error_is_an_ordinary_failure(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "own_timeout",
        """
import asyncio
TIMEOUT = 5
RETRIES = 0
async def handle(payload, ctx):
    async with asyncio.timeout(0.01):
        await asyncio.sleep(1)
""",
    )
    await start_runner()
    queued = await client.enqueue("own_timeout")
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "dead"
    assert inv.error["type"] == "TimeoutError"
    assert not inv.error["message"].startswith("timed out after"), "not the runner's timeout"
    assert "asyncio.timeout(0.01)" in inv.error["traceback"]


async def test_permanent_error_goes_straight_to_dead_letters(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "refuses",
        """
from streamfn import PermanentError
RETRIES = 5
async def handle(payload, ctx):
    raise PermanentError("bad input: no 'url'")
""",
    )
    await start_runner()
    queued = await client.enqueue("refuses", {})
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "dead"
    assert inv.attempt == 1
    assert inv.error["type"] == "PermanentError"
    assert inv.error["message"] == "bad input: no 'url'"
    assert "raise PermanentError" in inv.error["traceback"]


async def test_unserialisable_result_is_a_permanent_failure(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "weird",
        """
RETRIES = 3
def handle(payload, ctx):
    return {"s": {1, 2}}
""",
    )
    await start_runner()
    queued = await client.enqueue("weird")
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "dead"
    assert inv.attempt == 1
    assert inv.error["type"] == "UnserializableResult"
    assert "JSON" in inv.error["message"]


async def test_unparseable_entry_is_dead_lettered_with_a_clear_error(
    fdir: Path, client: Client, redis: Redis, keys: Keys, start_runner: StartRunner
) -> None:
    write_function(fdir, "plain", "async def handle(payload, ctx):\n    return 1\n")
    await start_runner()
    queued = await client.enqueue("plain", {"ok": True})
    await wait_final(client, [queued.id])
    bad_id = "plain.0123456789abcdef01234567"
    await redis.hset(keys.invocation("plain", bad_id), mapping={"status": "queued", "attempt": 1})
    await redis.xadd(keys.stream("plain"), {"id": bad_id, "p": b"{not json", "a": 1})
    (inv,) = await wait_final(client, [bad_id])
    assert inv.status == "dead"
    assert inv.error["type"] == "MalformedEntry"
    assert "not a valid invocation" in inv.error["message"]


async def test_retries_with_growing_gaps_then_dead_letter(
    fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "attempts.log"
    write_function(
        fdir,
        "always_fails",
        recorder(
            log,
            """
RETRIES = 2
BACKOFF = 0.1
async def handle(payload, ctx):
    record(ctx.attempt, time.time())
    raise ValueError(f"attempt {ctx.attempt} failed")
""",
        ),
    )
    await start_runner()
    queued = await client.enqueue("always_fails", {"n": 1})
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "dead"
    assert inv.attempt == 3
    assert inv.error["type"] == "ValueError"
    assert inv.error["message"] == "attempt 3 failed"
    rows = lines(log)
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    times = [float(r[1]) for r in rows]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Equal jitter: attempt k waits between step/2 and step, step = 0.1 * 2^(k-1) s.
    assert gaps[0] >= 0.05 - 0.01
    assert gaps[1] >= 0.1 - 0.01
    assert gaps[1] + 0.06 > gaps[0]
    (letter,) = await client.dead_letters("always_fails")
    assert letter.invocation_id == queued.id
    assert letter.payload == {"n": 1}
    assert letter.attempts == 3
