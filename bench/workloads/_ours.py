"""streamfn under the peers' protocol (``bench/peers/adapters/protocol.py``), same N, same Redis.

Three producers, each followed by a wait for the stream to be observed empty with nothing
pending (stricter than the peers' in-job-body detection: our figure also includes the last
completions' bookkeeping):
- ``client``: ``await Client.enqueue(...)`` one call at a time while the runner runs (exactly
  the peers' producer), then the drain phase: runner frozen with SIGSTOP, N more enqueued one at
  a time, SIGCONT, time to empty.
- ``http-1``: ``POST /invoke/noop`` one request at a time on one keep-alive connection.
- ``http-C``: the same N over ``--concurrency`` connections (the floor's client).
"""

from __future__ import annotations

import time

from bench.cpu import cpu_seconds, self_cpu_seconds
from bench.handlers import NOOP
from bench.harness import Harness, Namespace
from bench.observe import wait_drained
from bench.observe_redis import redis_commands, redis_cpu_seconds
from bench.result import Figures


async def _sequential(ns: Namespace, start: int, n: int) -> None:
    for i in range(start, start + n):
        await ns.client.enqueue(NOOP, {"i": i})


async def client_protocol(ns: Namespace, n: int) -> Figures:
    keys, runner = ns.stack.keys, ns.stack.runners[0]
    await _sequential(ns, -1, 1)
    await wait_drained(ns.redis, keys, NOOP, timeout=60.0)
    w0, p0 = cpu_seconds(runner), self_cpu_seconds()
    rc0, cmd0 = await redis_cpu_seconds(ns.redis), await redis_commands(ns.redis)
    t0 = time.perf_counter()
    await _sequential(ns, 0, n)
    t1 = time.perf_counter()
    t2 = await wait_drained(ns.redis, keys, NOOP, timeout=max(60.0, n / 100))
    w1, p1 = cpu_seconds(runner), self_cpu_seconds()
    rc1, cmd1 = await redis_cpu_seconds(ns.redis), await redis_commands(ns.redis)

    runner.pause()
    try:
        s0 = time.perf_counter()
        await _sequential(ns, n, n)
        s1 = time.perf_counter()
        w2, rc2 = cpu_seconds(runner), await redis_cpu_seconds(ns.redis)
    finally:
        t3 = time.perf_counter()
        runner.resume()
    t4 = await wait_drained(ns.redis, keys, NOOP, timeout=max(60.0, n / 100), interval=0.001)
    w3, rc3 = cpu_seconds(runner), await redis_cpu_seconds(ns.redis)
    return {
        "enqueue_s": t1 - t0,
        "e2e_s": t2 - t0,
        "e2e_per_s": n / (t2 - t0),
        "worker_cpu_e2e_s": w1 - w0,
        "producer_cpu_e2e_s": p1 - p0,
        "redis_cpu_e2e_s": rc1 - rc0,
        "redis_cmds_per_job": (cmd1 - cmd0) / n,
        "enqueue_solo_s": s1 - s0,
        "drain_s": t4 - t3,
        "drain_per_s": n / (t4 - t3),
        "worker_cpu_us_per_job_drain": (w3 - w2) / n * 1e6,
        "redis_cpu_us_per_job_drain": (rc3 - rc2) / n * 1e6,
    }


async def http_protocol(h: Harness, ns: Namespace, url: str, n: int, connections: int) -> Figures:
    runner = ns.stack.runners[0]
    w0 = cpu_seconds(runner)
    run = await h.post_many(url, n, connections, b'{"i":1}')
    t2 = await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=max(60.0, n / 100))
    return {
        "enqueue_s": run.elapsed,
        "e2e_s": t2 - run.started,
        "e2e_per_s": run.ok(202) / (t2 - run.started),
        "worker_cpu_e2e_s": cpu_seconds(runner) - w0,
        "producer_cpu_e2e_s": run.client_cpu_s,
    }


async def measure(h: Harness, n: int) -> dict[str, Figures]:
    """One repeat of all three producers on a fresh gateway + runner."""
    async with h.namespace() as ns:
        await ns.stack.start_runners(1, NOOP)
        url = f"{await ns.stack.serve(NOOP)}/invoke/{NOOP}"
        await h.post_many(url, 200, 10)  # warm-up of the HTTP path
        await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=60.0)
        conc = h.options.concurrency
        return {
            "streamfn-client": await client_protocol(ns, n),
            "streamfn-http-1": await http_protocol(h, ns, url, n, 1),
            f"streamfn-http-{conc}": await http_protocol(h, ns, url, n, conc),
        }
