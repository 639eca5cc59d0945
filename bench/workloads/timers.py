"""timers: how late delayed invocations start, the slowest Lua call, and Redis memory per
pending timer.

Lateness (repeated): with one gateway and ``--runners`` runners up, 100,000 no-op invocations
are scheduled with due times spread evenly over 60 s, plus 10,000 more due within one second in
the middle of that span (``lua/enqueue.lua`` with absolute due times, pipelined 1,000 per
round trip; the first is due 3 s after scheduling starts).  When all have finished:
``promote_late_*`` = record ``queued_at - due`` (the promoter's lateness; both Redis clock,
ms), ``finish_late_*`` = ``finished - due`` (includes the runner's pick-up and completion);
p50, p99, max over all 110,000.  ``slowest_lua_us`` = the longest EVALSHA in the SLOWLOG
during the repeat (threshold 250 µs; on an external ``--redis-url`` the server's own slow-log
settings are left alone and the figure is omitted); ``lua_calls_over_5ms`` counts the calls
over the target.  SLOWLOG times are wall-clock, so on a busy 2-core machine they include any
time Redis's thread was preempted.

Without runners (once): in a fresh namespace the function is deployed (a runner loads it,
then stops), one ``streamfn scheduler`` is started and no runner is live; a tenth of the
spread count is scheduled over a tenth of the span (the first due 1 s after scheduling
starts), and ``norunner_promote_late_*`` = ``queued_at - due`` once the scheduler alone has
moved them all into the stream, where they wait for a runner.

Memory (once): in a fresh namespace with no runner, 1,000,000 invocations are scheduled one
hour ahead with payload ``null`` (4 bytes); ``bytes_per_timer`` = change of ``INFO memory
used_memory`` / 1,000,000 (the record hash plus the timer-wheel entry).

``--n`` sets the spread count (the burst is a tenth of it).  ``--quick``: 300 + 30 timers
over 3 s, and 10,000 for memory.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from bench.failure import BenchError
from bench.handlers import NOOP
from bench.harness import Harness, Namespace
from bench.observe import read_records, wait_drained
from bench.observe_redis import used_memory
from bench.result import Check, Figures, WorkloadResult
from bench.stats import downsample, latency_figures
from bench.timer_load import redis_now_ms, schedule, script_names

NAME = "timers"
SLOWLOG_US = 250
TARGET_P99_MS = 50.0
TARGET_LUA_US = 5000.0
TARGET_BYTES = 200.0


def due_times(now_ms: int, spread: int, burst: int, span_ms: int, lead_ms: int) -> list[int]:
    base = now_ms + lead_ms
    evenly = [base + k * span_ms // spread for k in range(spread)]
    middle = base + span_ms // 2
    rng = random.Random(7)
    return evenly + [middle + rng.randrange(1000) for _ in range(burst)]


async def wait_timers_done(ns: Namespace, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    timers = ns.stack.keys.timers(NOOP)
    while await ns.redis.zcard(timers) > 0:
        if time.monotonic() > deadline:
            left = await ns.redis.zcard(timers)
            raise BenchError(f"{left} timers still not promoted {deadline_s:.0f}s after scheduling")
        await asyncio.sleep(0.1)
    await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=60.0)


async def slowest_lua(ns: Namespace) -> tuple[float | None, str | None, int]:
    """(longest EVALSHA in µs, its script's name, how many took over the 5 ms target)."""
    entries: list[dict[str, Any]] = await ns.redis.slowlog_get(100_000)
    names = script_names()
    worst: float | None = None
    script: str | None = None
    over = 0
    for e in entries:
        cmd = e.get("command", b"")
        parts = (cmd.decode(errors="replace") if isinstance(cmd, bytes) else str(cmd)).split()
        if parts and parts[0].upper() in ("EVALSHA", "EVAL", "FCALL"):
            us = float(e["duration"])
            over += us > TARGET_LUA_US
            if worst is None or us > worst:
                worst = us
                script = names.get(parts[1], parts[0]) if len(parts) > 1 else parts[0]
    return worst, script, over


async def lateness(
    h: Harness, ns: Namespace, spread: int, burst: int, span_ms: int
) -> tuple[Figures, list[float], str | None]:
    lead_ms = 3000 if spread > 1000 else 1000
    due = due_times(await redis_now_ms(ns.redis), spread, burst, span_ms, lead_ms)
    if h.own_redis:
        await ns.redis.slowlog_reset()
    with h.progress(len(due), "scheduling timers") as bar:
        ids = await schedule(ns.redis, ns.stack.keys, NOOP, due, progress=bar)
    await wait_timers_done(ns, (span_ms + lead_ms) / 1000 + 60)
    records = await read_records(ns.redis, ns.stack.keys, ids, due)
    figures: Figures = {"timers": len(ids), "succeeded": records.succeeded}
    figures.update(latency_figures("promote_late", records.promote_late_ms))
    figures.update(latency_figures("finish_late", records.finish_late_ms))
    script = None
    if h.own_redis:
        figures["slowest_lua_us"], script, over = await slowest_lua(ns)
        figures["lua_calls_over_5ms"] = over
    return figures, records.promote_late_ms, script


SCHEDULER_READY_S = 30.0


async def without_runners(h: Harness, count: int, span_ms: int) -> Figures:
    """Promotion lateness with no runner live: the scheduler alone promotes."""
    async with h.namespace() as ns:
        await ns.stack.start_runners(1, NOOP)  # deploys it; then its runner goes
        ns.stack.stop_runners()
        scheduler = ns.stack.start_scheduler(STREAMFN_LOG_LEVEL="INFO")
        deadline = time.monotonic() + SCHEDULER_READY_S
        while "scheduler started" not in scheduler.output():
            ns.stack.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"the scheduler did not start:\n{scheduler.log_tail()}")
            await asyncio.sleep(0.05)
        due = due_times(await redis_now_ms(ns.redis), count, 0, span_ms, 1000)
        ids = await schedule(ns.redis, ns.stack.keys, NOOP, due)
        timers = ns.stack.keys.timers(NOOP)
        deadline = time.monotonic() + span_ms / 1000 + 60
        while await ns.redis.zcard(timers) > 0:
            if time.monotonic() > deadline:
                raise BenchError("timers not promoted with no runner live within 60 s of due")
            await asyncio.sleep(0.1)
        records = await read_records(ns.redis, ns.stack.keys, ids, due)
    figures: Figures = {"norunner_timers": len(ids), "norunner_queued": records.statuses["queued"]}
    figures.update(latency_figures("norunner_promote_late", records.promote_late_ms))
    return figures


async def memory_per_timer(h: Harness, count: int) -> Figures:
    """Schedule ``count`` timers an hour ahead in a fresh namespace; bytes of Redis per timer."""
    async with h.namespace() as ns:
        before = await used_memory(ns.redis)
        due = [await redis_now_ms(ns.redis) + 3_600_000] * count
        with h.progress(count, "pending timers") as bar:
            await schedule(ns.redis, ns.stack.keys, NOOP, due, progress=bar)
        after = await used_memory(ns.redis)
        pending = int(await ns.redis.zcard(ns.stack.keys.timers(NOOP)))
    return {
        "pending_timers": pending,
        "payload_bytes": 4,
        "memory_delta_bytes": after - before,
        "bytes_per_timer": (after - before) / count,
    }


async def run(h: Harness) -> WorkloadResult:
    quick = h.options.quick
    spread = h.n(100_000, 300)
    burst = max(1, spread // 10)
    span_ms = 3_000 if quick else 60_000
    pending = 10_000 if quick else 1_000_000
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"spread": spread, "burst": burst, "span_ms": span_ms, "pending": pending},
        headline=[
            "promote_late_p50_ms",
            "promote_late_p99_ms",
            "promote_late_max_ms",
            "norunner_promote_late_p99_ms",
            "slowest_lua_us",
            "bytes_per_timer",
        ],
    )
    late: list[list[float]] = []
    async with h.namespace() as ns:
        await ns.stack.start_runners(h.options.runners, NOOP)
        await ns.stack.serve(NOOP)
        if h.own_redis:
            await ns.redis.config_set("slowlog-log-slower-than", SLOWLOG_US)
            await ns.redis.config_set("slowlog-max-len", 100_000)

        async def measure(i: int) -> Figures:
            figures, samples, script = await lateness(h, ns, spread, burst, span_ms)
            late.append(samples)
            if script is not None:
                result.notes.append(f"repeat {i + 1}: slowest Lua call was {script}.lua")
            return figures

        result.repeats = await h.repeat(measure)
    memory = await memory_per_timer(h, pending)
    alone = await without_runners(h, max(1, spread // 10), max(1000, span_ms // 10))
    for rep in result.repeats:
        rep.update(memory)  # measured once; repeated so the summary shows it
        rep.update(alone)
    result.notes.append("bytes_per_timer and norunner_* were measured once, not per repeat")
    if late:
        result.samples["timer promotion lateness"] = downsample(late[len(late) // 2])
    _checks(result)
    return result


def _checks(result: WorkloadResult) -> None:
    p99 = result.median("promote_late_p99_ms")
    result.checks.append(
        Check(
            f"target: timer lateness p99 under {TARGET_P99_MS:.0f} ms",
            p99 is not None and p99 < TARGET_P99_MS,
            f"median p99 {p99:.1f} ms" if p99 is not None else "not measured",
        )
    )
    alone = result.median("norunner_promote_late_p99_ms")
    result.checks.append(
        Check(
            f"target: with no runner live, timer lateness p99 under {TARGET_P99_MS:.0f} ms",
            alone is not None and alone < TARGET_P99_MS,
            f"p99 {alone:.1f} ms" if alone is not None else "not measured",
        )
    )
    lua = max((r.get("slowest_lua_us") or 0.0 for r in result.repeats), default=0.0)
    has_lua = any("slowest_lua_us" in r for r in result.repeats)
    result.checks.append(
        Check(
            f"target: no Lua call over {TARGET_LUA_US / 1000:.0f} ms",
            (lua < TARGET_LUA_US) if has_lua else None,
            (f"slowest {lua / 1000:.2f} ms" if lua else f"none over {SLOWLOG_US} µs")
            if has_lua
            else "not measured on an external Redis",
        )
    )
    per = result.median("bytes_per_timer")
    result.checks.append(
        Check(
            f"target: under {TARGET_BYTES:.0f} bytes per pending timer plus payload",
            per is not None and per - 4 < TARGET_BYTES,
            f"{per:.0f} bytes per timer with a 4-byte payload"
            if per is not None
            else "not measured",
        )
    )
