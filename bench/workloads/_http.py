"""Measured bursts of no-op invocations through ``POST /invoke/noop`` (floor, http-throughput).

:func:`burst`, with the Python load generator: t0 = first request sent; t1 = last ``202`` read
(accept phase); t2 = the stream observed empty with nothing pending (every invocation finished:
see :mod:`bench.observe`).  The runner runs throughout, so accepting and executing overlap.

:func:`wrk_phase`, with ``wrk`` (:mod:`bench.wrk`) for a fixed duration instead of a fixed N,
and :func:`bare_ceiling`, the same ``wrk`` run against :mod:`bench.bare_server`.
"""

from __future__ import annotations

import asyncio
import os
import time

from bench import wrk
from bench.cpu import cpu_seconds
from bench.failure import BenchError
from bench.handlers import NOOP
from bench.harness import Harness, Namespace
from bench.observe import Records, read_records, wait_drained
from bench.raw_http import HttpRun
from bench.result import Figures
from bench.stats import latency_figures
from streamfn.launch import Child, free_port, python_module

WRK_WARMUP_S = 1


async def start(h: Harness, ns: Namespace) -> str:
    """Runner(s) first (so the gateway's catalogue lists ``noop``), then the gateway."""
    await ns.stack.start_runners(h.options.runners, NOOP)
    base = await ns.stack.serve(NOOP)
    return f"{base}/invoke/{NOOP}"


async def burst(
    h: Harness, ns: Namespace, url: str, n: int, label: str
) -> tuple[Figures, HttpRun, Records]:
    """Send ``n`` invocations and wait until all finished; returns figures and raw data."""
    gateway: Child | None = ns.stack.gateway
    runners = ns.stack.runners
    g0 = cpu_seconds(gateway) if gateway else 0.0
    r0 = cpu_seconds(*runners)
    run = await h.post_many(url, n, h.options.concurrency, b'{"i":1}', label)
    done = await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=max(60.0, n / 200))
    g1 = cpu_seconds(gateway) if gateway else 0.0
    r1 = cpu_seconds(*runners)
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


def wrk_seconds(h: Harness) -> int:
    """How long each measured ``wrk`` run lasts: 5 s, 1 s with ``--quick``."""
    return 1 if h.options.quick else 5


async def wrk_phase(h: Harness, ns: Namespace, url: str) -> Figures:
    """A 1 s unmeasured wrk run, drain, then ``wrk_seconds`` measured, drain again.

    CPU of the gateway and runners is read from ``/proc`` from the start of the measured run to
    the stream observed empty, so the runner's share covers executing everything accepted.
    """
    await wrk.run(url, h.options.concurrency, WRK_WARMUP_S)
    await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=60.0)
    gateway, runners = ns.stack.gateway, ns.stack.runners
    g0 = cpu_seconds(gateway) if gateway else 0.0
    r0 = cpu_seconds(*runners)
    res = await wrk.run(url, h.options.concurrency, wrk_seconds(h))
    await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=max(60.0, res.ok / 200))
    g1 = cpu_seconds(gateway) if gateway else 0.0
    r1 = cpu_seconds(*runners)
    answered, accepted = res.requests or None, res.ok or None
    return {
        "wrk_requests": res.requests,
        "wrk_accepted": res.ok,
        "wrk_non2xx": res.non2xx,
        "wrk_socket_errors": sum(res.socket_errors.values()),
        "wrk_duration_s": res.duration_s,
        "wrk_accepted_per_s": res.ok_per_s,
        "wrk_http_p50_ms": res.p50_ms,
        "wrk_http_p99_ms": res.p99_ms,
        "wrk_client_cpu_us_per_req": res.client_cpu_s / answered * 1e6 if answered else None,
        "wrk_gateway_cpu_us_per_req": (g1 - g0) / answered * 1e6 if answered else None,
        "wrk_runner_cpu_us_per_inv": (r1 - r0) / accepted * 1e6 if accepted else None,
    }


async def bare_ceiling(h: Harness) -> Figures:
    """``wrk`` (same settings as :func:`wrk_phase`) against a bare aiohttp server, no Redis."""
    port = free_port()
    server = Child("bare-aiohttp", python_module("bench.bare_server", str(port)), os.environ)
    server.start(log=h.logs / f"bare-aiohttp-{time.monotonic_ns()}.log")
    try:
        await _await_listening(server, port)
        url = f"http://127.0.0.1:{port}/invoke/{NOOP}"
        await wrk.run(url, h.options.concurrency, WRK_WARMUP_S)
        res = await wrk.run(url, h.options.concurrency, wrk_seconds(h))
    finally:
        await asyncio.to_thread(server.stop)
    return {
        "bare_aiohttp_per_s": res.ok_per_s,
        "bare_aiohttp_p50_ms": res.p50_ms,
        "bare_aiohttp_p99_ms": res.p99_ms,
        "bare_aiohttp_non2xx": res.non2xx,
        "bare_aiohttp_client_cpu_us_per_req": (
            res.client_cpu_s / res.requests * 1e6 if res.requests else None
        ),
    }


async def _await_listening(server: Child, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"bench.bare_server exited at start; its log:\n{server.log_tail()}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise BenchError(f"bench.bare_server did not listen on port {port} within {timeout:.0f}s")
