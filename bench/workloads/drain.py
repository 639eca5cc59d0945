"""drain: how fast one runner process empties a backlog of no-op invocations, and its CPU per
invocation.

Warm drain (the figure the peers are compared on; their protocol is in bench/README.md,
"Peers"): a runner that has started and reported ``noop`` is frozen
with SIGSTOP; N = 10,000 invocations are queued with ``Client.enqueue_many`` (batches of 1,000;
not timed); t0 = SIGCONT; t1 = the stream observed empty with nothing pending (every invocation
completed, acknowledged and deleted).  ``drain_per_s`` = N / (t1 - t0);
``runner_cpu_us_per_inv`` = the runner process tree's utime + stime (``/proc/<pid>/stat``)
over the drain / N; ``redis_cpu_us_per_inv`` = the server's ``used_cpu_user + used_cpu_sys``
over the drain / N (consume side only); ``redis_cmds_per_inv`` from ``INFO stats``.

Cold drain (what the issue literally asks: "queued with no runner, then one runner
started"): N are queued with no runner alive, then a new runner process is started;
``cold_total_s`` runs from its spawn to the stream observed empty and so includes Python
start-up, imports and function discovery.
"""

from __future__ import annotations

import asyncio
import time

from bench.cpu import cpu_seconds
from bench.handlers import NOOP
from bench.harness import Harness, Namespace
from bench.observe import read_records, wait_drained
from bench.observe_redis import redis_commands, redis_cpu_seconds
from bench.result import Check, Figures, WorkloadResult

NAME = "drain"
TARGET_PER_S = 35_000.0
TARGET_CPU_US = 30.0


async def queue(ns: Namespace, n: int, offset: int = 0, function: str = NOOP) -> list[str]:
    """Enqueue ``n`` no-op invocations in pipelined batches of 1,000; returns their ids."""
    ids: list[str] = []
    for start in range(0, n, 1000):
        size = min(1000, n - start)
        payloads = ({"i": offset + start + k} for k in range(size))
        ids += await ns.client.enqueue_many(function, payloads)
    return ids


async def warm_drain(h: Harness, ns: Namespace, n: int, function: str = NOOP) -> Figures:
    """One SIGSTOP / enqueue / SIGCONT / drained measurement on the stack's runner(s)."""
    keys = ns.stack.keys
    runners = ns.stack.runners
    for r in runners:
        r.pause()
    try:
        ids = await queue(ns, n, function=function)
        cpu0 = cpu_seconds(*runners)
        red0, cmd0 = await redis_cpu_seconds(ns.redis), await redis_commands(ns.redis)
    finally:
        t0 = time.perf_counter()
        for r in runners:
            r.resume()
    t1 = await wait_drained(ns.redis, keys, function, timeout=max(60.0, n / 200), interval=0.001)
    cpu1 = cpu_seconds(*runners)
    red1, cmd1 = await redis_cpu_seconds(ns.redis), await redis_commands(ns.redis)
    records = await read_records(ns.redis, keys, ids)
    return {
        "n": n,
        "succeeded": records.succeeded,
        "drain_s": t1 - t0,
        "drain_per_s": n / (t1 - t0),
        "runner_cpu_us_per_inv": (cpu1 - cpu0) / n * 1e6,
        "redis_cpu_us_per_inv": (red1 - red0) / n * 1e6,
        "redis_cmds_per_inv": (cmd1 - cmd0) / n,
    }


async def cold_drain(ns: Namespace, n: int) -> Figures:
    await asyncio.to_thread(ns.stack.stop_runners)
    await queue(ns, n)
    t0 = time.perf_counter()
    runner = ns.stack.start_runner()
    t1 = await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=max(60.0, n / 200))
    return {"cold_total_s": t1 - t0, "cold_runner_cpu_s": cpu_seconds(runner)}


async def run(h: Harness) -> WorkloadResult:
    n = h.n(10_000, 300)
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n": n, "runners": 1},
        headline=["drain_per_s", "runner_cpu_us_per_inv", "redis_cpu_us_per_inv", "cold_total_s"],
    )
    async with h.namespace() as ns:
        await ns.stack.start_runners(1, NOOP)

        async def warm() -> None:
            await queue(ns, min(n, 1000))
            await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=60.0)

        async def measure(i: int) -> Figures:
            figures = await warm_drain(h, ns, n)
            # The cold runner, having drained, is the warm one of the next repeat.
            figures.update(await cold_drain(ns, n))
            return figures

        result.repeats = await h.repeat(measure, warm)
    rate, cpu = result.median("drain_per_s"), result.median("runner_cpu_us_per_inv")
    result.checks.append(
        Check(
            f"target: runner drain at least {TARGET_PER_S:,.0f}/s",
            rate is not None and rate >= TARGET_PER_S,
            f"median {rate:,.0f}/s" if rate is not None else "not measured",
        )
    )
    result.checks.append(
        Check(
            f"target: under {TARGET_CPU_US:.0f} µs of runner CPU per invocation",
            cpu is not None and cpu < TARGET_CPU_US,
            f"median {cpu:.1f} µs" if cpu is not None else "not measured",
        )
    )
    return result
