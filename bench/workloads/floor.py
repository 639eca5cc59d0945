"""floor: 10,000 no-op invocations through ``POST /invoke/noop``; PASS when all 10,000 have
completed within 10 s of the first request.

Setup: one gateway, ``--runners`` runner processes (default 1, default concurrency), the bench's
load generator (``bench/raw_http.py``) with ``--concurrency`` keep-alive connections (default
64), a 200-invocation warm-up.  Per repeat: ``accept_s`` (first request sent to last ``202``
read), ``total_s`` (first request sent to the stream observed empty with nothing pending, i.e.
every invocation finished), ``accepted_per_s`` and ``completed_per_s`` (N over those), HTTP
latency of the ``202`` (client clock), end-to-end latency per invocation (record ``finished -
created``, Redis clock, ms resolution), ``succeeded`` (records whose status is ``succeeded``,
read after the clock stops), and CPU µs per invocation of the client, gateway and runner(s).
"""

from __future__ import annotations

from bench.harness import Harness
from bench.result import Check, WorkloadResult
from bench.stats import downsample
from bench.workloads import _http

NAME = "floor"
FLOOR_S = 10.0
TARGET_S = 1.0


async def run(h: Harness) -> WorkloadResult:
    n = h.n(10_000, 300)
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n": n, "runners": h.options.runners, "concurrency": h.options.concurrency},
        headline=["total_s", "completed_per_s", "accepted_per_s", "http_p99_ms"],
    )
    async with h.namespace() as ns:
        url = await _http.start(h, ns)
        latencies: list[list[float]] = []

        async def measure(i: int) -> dict[str, float | None]:
            figures, _run, records = await _http.burst(h, ns, url, n, f"floor {i + 1}")
            latencies.append(records.end_to_end_ms)
            return figures

        result.repeats = await h.repeat(measure, lambda: _http.warm(h, ns, url))
    if latencies:
        result.samples["floor e2e latency"] = downsample(latencies[len(latencies) // 2])
    passed = all(
        r["succeeded"] == n and (r["total_s"] or FLOOR_S + 1) <= FLOOR_S for r in result.repeats
    )
    worst = max(r["total_s"] or 0.0 for r in result.repeats)
    result.checks.append(
        Check(
            f"floor: all {n:,} completed within {FLOOR_S:.0f} s",
            passed,
            f"{'PASS' if passed else 'FAIL'}: slowest repeat {worst:.3f} s, "
            f"succeeded {min(r['succeeded'] or 0 for r in result.repeats):,.0f}/{n:,} at worst",
        )
    )
    med = result.median("total_s")
    result.checks.append(
        Check(
            f"target: all {n:,} done in under {TARGET_S:.0f} s",
            med is not None and med < TARGET_S,
            f"median {med:.3f} s" if med is not None else "not measured",
        )
    )
    return result
