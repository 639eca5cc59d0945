"""client-throughput: invocations enqueued per second through the Python client
(``Client.enqueue_many``, straight to Redis, batches of ``BATCH``), and end-to-end completions
per second with the runner executing meanwhile.

Per repeat: t0 = first batch sent; t1 = last batch acknowledged by Redis (``enqueue_s``,
``enqueued_per_s``); t2 = the stream observed empty with nothing pending (``total_s``,
``completed_per_s``).  Batches are sent one after another from one task (each is one pipelined
round trip of ``enqueue`` script calls).  ``e2e_*`` latency is each record's
``finished - created`` (Redis clock, ms).  Warm-up: one batch, not measured.
"""

from __future__ import annotations

import time

from bench.cpu import cpu_seconds, self_cpu_seconds
from bench.handlers import NOOP
from bench.harness import Harness
from bench.observe import read_records, wait_drained
from bench.result import WorkloadResult
from bench.stats import downsample, latency_figures

NAME = "client-throughput"
BATCH = 500


async def run(h: Harness) -> WorkloadResult:
    n = h.n(50_000, 300)
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n": n, "batch": BATCH, "runners": h.options.runners},
        headline=["enqueued_per_s", "completed_per_s", "e2e_p50_ms", "e2e_p99_ms"],
    )
    latencies: list[list[float]] = []
    async with h.namespace() as ns:
        await ns.stack.start_runners(h.options.runners, NOOP)
        keys = ns.stack.keys

        async def warm() -> None:
            await ns.client.enqueue_many(NOOP, [{"i": -1}] * min(BATCH, n))
            await wait_drained(ns.redis, keys, NOOP, timeout=60.0)

        async def measure(i: int) -> dict[str, float | None]:
            ids: list[str] = []
            r0 = cpu_seconds(*ns.stack.runners)
            c0 = self_cpu_seconds()
            with h.progress(n, f"client {i + 1}") as bar:
                t0 = time.perf_counter()
                for start in range(0, n, BATCH):
                    size = min(BATCH, n - start)
                    ids += await ns.client.enqueue_many(
                        NOOP, ({"i": start + k} for k in range(size))
                    )
                    bar.update(size)
                t1 = time.perf_counter()
            c1 = self_cpu_seconds()
            t2 = await wait_drained(ns.redis, keys, NOOP, timeout=max(60.0, n / 200))
            r1 = cpu_seconds(*ns.stack.runners)
            records = await read_records(ns.redis, keys, ids)
            latencies.append(records.end_to_end_ms)
            return {
                "n": n,
                "succeeded": records.succeeded,
                "enqueue_s": t1 - t0,
                "total_s": t2 - t0,
                "enqueued_per_s": n / (t1 - t0),
                "completed_per_s": records.succeeded / (t2 - t0),
                **latency_figures("e2e", records.end_to_end_ms),
                "client_cpu_us_per_inv": (c1 - c0) / n * 1e6,
                "runner_cpu_us_per_inv": (r1 - r0) / n * 1e6,
            }

        result.repeats = await h.repeat(measure, warm)
    if latencies:
        result.samples["client e2e latency"] = downsample(latencies[len(latencies) // 2])
    return result
