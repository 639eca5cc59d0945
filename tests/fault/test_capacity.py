"""M2: a 20,000-entry backlog survives every trimming the system does; M1: memory is bounded.

M2 hard: with the runners paused, the work stream keeps every entry while dead letters of
another function are trimmed to their cap; after resuming, lost = 0.
M1 hard: after N invocations with a 2 s result TTL, Redis memory returns to within 10% of its
starting point and no key ever exceeds 8 MB (fast tier N = 20,000; soak N = 100,000).
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from streamfn.client import Client
from tests.fault.checker import all_succeeded, check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import Stack, eventually

pytestmark = pytest.mark.fault

POISON = """
from streamfn import PermanentError
async def handle(payload, ctx):
    raise PermanentError("always dead-lettered")
"""
MB = 1024 * 1024


async def _enqueue(client: Client, count: int, chunk: int = 2000) -> dict[str, float | None]:
    acked: dict[str, float | None] = {}
    for start in range(0, count, chunk):
        ids = await client.enqueue_many("probe", [None] * min(chunk, count - start))
        acked.update(dict.fromkeys(ids))
    return acked


async def test_m2_backlog_survives_trimming(make_stack: MakeStack, tmp_path: Path) -> None:
    backlog, dead_cap = 20_000, 100
    stack = await make_stack()
    stack.probe()
    env = {"STREAMFN_DEAD_MAXLEN": str(dead_cap), "STREAMFN_CONCURRENCY": "200"}
    paused = [stack.start_runner(**env) for _ in range(2)]
    await stack.runners_ready(2)
    for proc in paused:
        stack.kill(proc, signal.SIGSTOP)
    client = Client(stack.redis, stack.settings)
    acked = await _enqueue(client, backlog)
    poison_dir = tmp_path / "poison_fns"
    poison_dir.mkdir()
    (poison_dir / "poison.py").write_text(POISON)
    stack.start_runner(**env, STREAMFN_FUNCTIONS_DIR=str(poison_dir))
    await client.enqueue_many("poison", [None] * (dead_cap * 10))
    dead_key = stack.keys.dead("poison")

    async def poison_done() -> bool:
        return await stack.redis.xlen(stack.keys.stream("poison")) == 0

    await eventually(poison_done, 30, "the poison invocations to be dead-lettered")
    before = await stack.redis.xlen(stack.keys.stream("probe"))
    dead_len = await stack.redis.xlen(dead_key)
    resumed = time.monotonic()
    for proc in paused:
        stack.kill(proc, signal.SIGCONT)
    await eventually(
        lambda: all_succeeded(stack.redis, stack.keys, acked), 60, "the backlog to drain"
    )
    drain_s = time.monotonic() - resumed
    figures = check(acked, stack.executions(), await final_statuses(stack.redis, stack.keys, acked))
    record(
        "M2",
        title="20,000 backlog with runners paused while dead letters are trimmed",
        fault=f"SIGSTOP both runners, enqueue {backlog}, trim another function's dead letters "
        f"to {dead_cap}, SIGCONT",
        expectation="the work stream is never trimmed; lost 0",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(drain_s, 2),
        backlog=backlog,
        stream_len_before_resume=before,
        dead_stream_len=dead_len,
        drain_per_s=round(backlog / drain_s),
    )
    assert before == backlog, "nothing trimmed the work stream"
    assert dead_len < dead_cap * 3, "the dead-letter stream is capped"
    assert figures["lost"] == 0, figures


def _below(stack: Stack, stream: str, limit: int) -> Callable[[], Awaitable[bool]]:
    """Keeps the backlog under ``limit``, as real traffic would."""

    async def check() -> bool:
        return bool(await stack.redis.xlen(stream) <= limit)

    return check


async def _memory(stack: Stack) -> int:
    info = await stack.redis.info("memory")
    return int(info["used_memory"])


async def _largest_key(stack: Stack) -> tuple[str, int]:
    biggest = ("", 0)
    async for key in stack.redis.scan_iter(count=1000):
        size = await stack.redis.memory_usage(key) or 0
        if size > biggest[1]:
            biggest = (key.decode(), size)
    return biggest


async def _bounded_memory(make_stack: MakeStack, total: int, tier: str) -> None:
    stack = await make_stack(own_redis=True)
    stack.probe()
    env = {"STREAMFN_RESULT_TTL": "2", "STREAMFN_CONCURRENCY": "200"}
    for _ in range(2):
        stack.start_runner(**env)
    await stack.runners_ready(2)
    client = Client(stack.redis, stack.settings)
    stream = stack.keys.stream("probe")

    async def drained() -> bool:
        pending = await stack.pending_by_consumer()
        return await stack.redis.xlen(stream) == 0 and sum(pending.values()) == 0

    warm = await _enqueue(client, 200)
    await eventually(drained, 20, "the warm-up to drain")
    baseline_keys = await stack.redis.dbsize() - len(warm)

    async def expired() -> bool:
        return bool(await stack.redis.dbsize() <= baseline_keys)

    await eventually(expired, 20, "the warm-up records to expire")
    baseline = await _memory(stack)
    acked: dict[str, float | None] = {}
    peak, largest = baseline, ("", 0)
    started = time.monotonic()
    for start in range(0, total, 5000):
        acked.update(await _enqueue(client, min(5000, total - start)))
        await eventually(_below(stack, stream, 10_000), 60, "the backlog to shrink")
        peak = max(peak, await _memory(stack))
        size = await stack.redis.memory_usage(stream) or 0
        if size > largest[1]:
            largest = (stream, size)
    await eventually(drained, 120, "every invocation to run")
    scanned = await _largest_key(stack)
    if scanned[1] > largest[1]:
        largest = scanned
    run_s = time.monotonic() - started
    await eventually(expired, 60, "finished records to expire")
    settled = time.monotonic()

    async def returned() -> bool:  # Redis shrinks its key tables in its cron, a bit later
        return await _memory(stack) <= baseline * 1.10

    with contextlib.suppress(AssertionError):  # recorded below, then asserted
        await eventually(returned, 20, "memory to return to its start")
    settle_s = time.monotonic() - settled
    end = await _memory(stack)
    ran = {e.id for e in stack.executions() if e.end is not None}
    lost = len(set(acked) - ran)
    record(
        "M1",
        title=f"{total:,} invocations with a 2 s result TTL: memory returns to its start",
        fault="none: sustained load, backlog kept under 10,000",
        expectation="used_memory back within 10% of the start; no key over 8 MB",
        tier=tier,
        lost=lost,
        duplicates=len(stack.executions()) - len({e.id for e in stack.executions()}),
        recovery_s=None,
        invocations=total,
        baseline_mb=round(baseline / MB, 2),
        peak_mb=round(peak / MB, 2),
        end_mb=round(end / MB, 2),
        end_vs_start_pct=round(100 * (end - baseline) / baseline, 1),
        largest_key=largest[0].replace(stack.settings.namespace, "ns"),
        largest_key_mb=round(largest[1] / MB, 2),
        run_s=round(run_s, 1),
        settle_s=round(settle_s, 1),
        keys_at_end=await stack.redis.dbsize(),
    )
    assert lost == 0
    assert end <= baseline * 1.10, (baseline, end)
    assert largest[1] < 8 * MB, largest


async def test_m1_memory_is_bounded(make_stack: MakeStack) -> None:
    await _bounded_memory(make_stack, 20_000, "fast")


@pytest.mark.soak
async def test_m1_memory_is_bounded_soak(make_stack: MakeStack) -> None:
    await _bounded_memory(make_stack, 100_000, "soak")
