"""http-throughput: invocations accepted per second by ``POST /invoke/noop``, and end-to-end
completions per second, with HTTP and end-to-end latency p50/p99.

Same timeline and figures as ``floor`` (see :mod:`bench.workloads._http`), with N = 20,000 by
default so the accept phase lasts long enough to be a rate rather than a start-up transient.
``accepted_per_s`` = 202s over (first request sent to last 202 read); ``completed_per_s`` =
succeeded records over (first request sent to stream empty).  ``http_*`` latency is the
client's request-to-202 time; ``e2e_*`` is each record's ``finished - created`` (Redis clock,
ms).  The load generator is Python in this process: ``client_cpu_us_per_inv`` shows how much of
the 2 cores it took from the gateway.
"""

from __future__ import annotations

from bench.harness import Harness
from bench.result import Check, WorkloadResult
from bench.stats import downsample
from bench.workloads import _http

NAME = "http-throughput"
TARGET_ACCEPTED = 15_000.0


async def run(h: Harness) -> WorkloadResult:
    n = h.n(20_000, 300)
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n": n, "runners": h.options.runners, "concurrency": h.options.concurrency},
        headline=["accepted_per_s", "completed_per_s", "http_p50_ms", "http_p99_ms", "e2e_p99_ms"],
    )
    async with h.namespace() as ns:
        url = await _http.start(h, ns)
        http_lat: list[list[float]] = []
        e2e_lat: list[list[float]] = []

        async def measure(i: int) -> dict[str, float | None]:
            figures, run, records = await _http.burst(h, ns, url, n, f"http {i + 1}")
            http_lat.append(run.latencies_ms)
            e2e_lat.append(records.end_to_end_ms)
            return figures

        result.repeats = await h.repeat(measure, lambda: _http.warm(h, ns, url))
    mid = len(http_lat) // 2
    if http_lat:
        result.samples["http 202 latency"] = downsample(http_lat[mid])
        result.samples["http e2e latency"] = downsample(e2e_lat[mid])
    med = result.median("accepted_per_s")
    result.checks.append(
        Check(
            f"target: at least {TARGET_ACCEPTED:,.0f} invocations accepted/s over HTTP",
            med is not None and med >= TARGET_ACCEPTED,
            f"median {med:,.0f}/s" if med is not None else "not measured",
        )
    )
    return result
