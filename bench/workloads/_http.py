"""One measured burst of no-op invocations through ``POST /invoke/noop`` (floor, http-throughput).

Timeline of one repeat: t0 = first request sent; t1 = last ``202`` read (accept phase); t2 =
the stream observed empty with nothing pending (every invocation finished: see
:mod:`bench.observe`).  The runner runs throughout, so accepting and executing overlap.
"""

from __future__ import annotations

from bench.handlers import NOOP
from bench.harness import Harness, Namespace
from bench.http_load import HttpRun
from bench.observe import Records, read_records, wait_drained
from bench.procs import Service
from bench.result import Figures
from bench.stats import latency_figures


async def start(h: Harness, ns: Namespace) -> str:
    """Runner(s) first (so the gateway's catalogue lists ``noop``), then the gateway."""
    await ns.stack.start_runners(h.options.runners, NOOP)
    base = await ns.stack.start_gateway(NOOP)
    return f"{base}/invoke/{NOOP}"


async def burst(
    h: Harness, ns: Namespace, url: str, n: int, label: str
) -> tuple[Figures, HttpRun, Records]:
    """Send ``n`` invocations and wait until all finished; returns figures and raw data."""
    gateway: Service | None = ns.stack.gateway
    runners = ns.stack.runners
    g0 = gateway.cpu_seconds() if gateway else 0.0
    r0 = sum(r.cpu_seconds() for r in runners)
    run = await h.post_many(url, n, h.options.concurrency, b'{"i":1}', label)
    done = await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=max(60.0, n / 200))
    g1 = gateway.cpu_seconds() if gateway else 0.0
    r1 = sum(r.cpu_seconds() for r in runners)
    records = await read_records(ns.redis, ns.stack.keys, run.ids)
    accepted = run.ok(202, 200)
    total_s = done - run.started
    figures: Figures = {
        "n": n,
        "accepted": accepted,
        "succeeded": records.succeeded,
        "http_errors": n - accepted,
        "accept_s": run.elapsed,
        "total_s": total_s,
        "accepted_per_s": accepted / run.elapsed if run.elapsed > 0 else None,
        "completed_per_s": records.succeeded / total_s if total_s > 0 else None,
        **latency_figures("http", run.latencies_ms),
        **latency_figures("e2e", records.end_to_end_ms),
        "client_cpu_us_per_inv": run.client_cpu_s / n * 1e6,
        "gateway_cpu_us_per_inv": (g1 - g0) / n * 1e6,
        "runner_cpu_us_per_inv": (r1 - r0) / n * 1e6,
    }
    return figures, run, records


async def warm(h: Harness, ns: Namespace, url: str, n: int = 200) -> None:
    """Unmeasured invocations: imports, connections and script caches are hot afterwards."""
    await h.post_many(url, n, min(n, h.options.concurrency))
    await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=60.0)
