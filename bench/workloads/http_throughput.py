"""http-throughput: invocations accepted per second by ``POST /invoke/noop`` and end-to-end
completions per second, with HTTP and end-to-end latency p50/p99, measured with the Python load
generator and with ``wrk``, next to a bare-aiohttp ceiling measured with ``wrk`` in the same run.

Python client (each repeat): the same timeline and figures as ``floor`` (see
:mod:`bench.workloads._http`), with N = 20,000 by default so the accept phase lasts long enough
to be a rate rather than a start-up transient.  ``accepted_per_s`` = 202s over (first request
sent to last 202 read); ``completed_per_s`` = succeeded records over (first request sent to
stream empty).  ``http_*`` latency is the client's request-to-202 time; ``e2e_*`` is each
record's ``finished - created`` (Redis clock, ms).  This client is Python in the bench process:
``client_cpu_us_per_inv`` shows how much of the 2 cores it took from the gateway.

wrk (each repeat, after the Python client's burst, when ``wrk`` is on PATH): with the same
gateway and runner(s) running, ``wrk -t1 -c<--concurrency> --latency`` POSTs ``null``
(``Content-Type: application/json``) to ``/invoke/noop`` for 1 s, unmeasured, then, once the
stream is empty, for 5 s (1 s with ``--quick``), and the bench waits until the stream is empty
again (everything accepted has run).  ``wrk_accepted_per_s`` = (responses - ``wrk_non2xx``) /
the duration wrk measured, where ``wrk_non2xx`` is wrk's "Non-2xx or 3xx responses" (status >=
400); ``wrk_http_p50_ms``/``wrk_http_p99_ms`` are wrk's latency percentiles over all responses;
``wrk_socket_errors`` sums wrk's connect, read, write and timeout errors.  CPU from
``/proc/<pid>/stat``, from the start of the measured run to the stream observed empty:
``wrk_gateway_cpu_us_per_req`` per response, ``wrk_runner_cpu_us_per_inv`` per accepted
invocation; ``wrk_client_cpu_us_per_req`` is wrk's own CPU (``getrusage`` of reaped children).

Bare ceiling (once per workload run, before the gateway starts): the same two wrk runs against
:mod:`bench.bare_server` (aiohttp on uvloop, one route reading the body and answering 202 with a
small JSON body, no Redis): ``bare_aiohttp_per_s`` and ``bare_aiohttp_p50_ms``/``_p99_ms``,
copied into every repeat so the summary shows them.  ``wrk_to_bare_ratio`` =
``wrk_accepted_per_s / bare_aiohttp_per_s`` of each repeat.

The target, 15,000 accepted/s (half the bare-aiohttp ceiling under ``wrk -t1 -c50`` in
research), is checked on the median ``wrk_accepted_per_s``; without wrk, on ``accepted_per_s``.
"""

from __future__ import annotations

from bench import wrk
from bench.failure import BenchError
from bench.harness import Harness
from bench.result import Check, Figures, WorkloadResult
from bench.stats import downsample
from bench.workloads import _http

NAME = "http-throughput"
TARGET_ACCEPTED = 15_000.0
HEADLINE = ["accepted_per_s", "completed_per_s", "http_p50_ms", "http_p99_ms", "e2e_p99_ms"]
WRK_HEADLINE = [
    "wrk_accepted_per_s",
    "wrk_http_p50_ms",
    "wrk_http_p99_ms",
    "wrk_non2xx",
    "wrk_gateway_cpu_us_per_req",
    "wrk_runner_cpu_us_per_inv",
    "bare_aiohttp_per_s",
    "wrk_to_bare_ratio",
]


async def run(h: Harness) -> WorkloadResult:
    n = h.n(20_000, 300)
    wrk_path = wrk.find()
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={
            "n": n,
            "runners": h.options.runners,
            "concurrency": h.options.concurrency,
            "wrk": wrk_path,
            "wrk_seconds": _http.wrk_seconds(h) if wrk_path else None,
        },
        headline=HEADLINE + (WRK_HEADLINE if wrk_path else []),
    )
    bare: Figures = {}
    if wrk_path is None:
        result.notes.append(wrk.MISSING)
    else:
        try:
            bare = await _http.bare_ceiling(h)
        except BenchError as exc:  # the ceiling is context: our own figures still count
            result.notes.append(f"bare-aiohttp ceiling not measured: {exc}")
    async with h.namespace() as ns:
        url = await _http.start(h, ns)
        http_lat: list[list[float]] = []
        e2e_lat: list[list[float]] = []

        async def measure(i: int) -> Figures:
            figures, run, records = await _http.burst(h, ns, url, n, f"http {i + 1}")
            http_lat.append(run.latencies_ms)
            e2e_lat.append(records.end_to_end_ms)
            if wrk_path is not None:
                try:
                    figures.update(await _http.wrk_phase(h, ns, url))
                except wrk.WrkError as exc:
                    result.notes.append(f"repeat {i + 1}: wrk phase failed: {exc}")
                figures.update(bare)
                per_s, ceiling = figures.get("wrk_accepted_per_s"), bare.get("bare_aiohttp_per_s")
                figures["wrk_to_bare_ratio"] = per_s / ceiling if per_s and ceiling else None
            return figures

        result.repeats = await h.repeat(measure, lambda: _http.warm(h, ns, url))
    if bare:
        result.notes.append("bare_aiohttp_* was measured once, not per repeat")
    mid = len(http_lat) // 2
    if http_lat:
        result.samples["http 202 latency"] = downsample(http_lat[mid])
        result.samples["http e2e latency"] = downsample(e2e_lat[mid])
    result.checks.append(_target(result, h.options.concurrency))
    return result


def _target(result: WorkloadResult, connections: int) -> Check:
    """Issue 3's HTTP target, on wrk's figure when there is one."""
    target = f"target: at least {TARGET_ACCEPTED:,.0f} invocations accepted/s over HTTP"
    med = result.median("wrk_accepted_per_s")
    client = result.median("accepted_per_s")
    client_text = f"{client:,.0f}/s" if client is not None else "not measured"
    if med is not None:
        ceiling = result.median("bare_aiohttp_per_s")
        ratio = (
            f"{med / ceiling:.2f}x the bare-aiohttp ceiling measured in this run ({ceiling:,.0f}/s)"
            if ceiling
            else "bare-aiohttp ceiling not measured"
        )
        detail = (
            f"wrk, {connections} connections: median {med:,.0f}/s, {ratio}; "
            f"Python client: {client_text}"
        )
        return Check(target, med >= TARGET_ACCEPTED, detail)
    detail = (
        f"Python client ({connections} connections, in the bench process, sharing the cores "
        f"with the gateway): median {client_text}; wrk not installed"
    )
    return Check(target, client is not None and client >= TARGET_ACCEPTED, detail)
