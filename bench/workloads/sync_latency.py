"""sync-latency: the ``POST /invoke/echo?wait=5`` round trip at 1, 10 and 100 concurrent callers.

Each caller sends its next request as soon as the previous answer arrives (closed loop), N
requests per level in total (default 2,000, so p99.9 rests on at least two samples).  Latency =
client clock from sending the request to reading the whole ``200`` answer, which includes
enqueue, the runner's pick-up, ``echo`` itself, completion, the pub/sub wake-up of the waiting
gateway and the response.  Figures per level ``c<callers>_``: p50, p99, p99.9, max (ms),
``ok`` (answers with status 200) and ``per_s`` (round trips per second).  Warm-up: 100
requests at 10 callers.
"""

from __future__ import annotations

from bench.handlers import ECHO
from bench.harness import Harness
from bench.result import Check, Figures, WorkloadResult
from bench.stats import downsample, latency_figures

NAME = "sync-latency"
CALLERS = (1, 10, 100)
TARGET_P50_MS = 2.0
BODY = b'{"hello":"world"}'


async def run(h: Harness) -> WorkloadResult:
    n = h.n(2_000, 100)
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n_per_level": n, "callers": list(CALLERS), "runners": h.options.runners},
        headline=[f"c{c}_{p}_ms" for c in CALLERS for p in ("p50", "p99")],
    )
    samples: dict[int, list[list[float]]] = {c: [] for c in CALLERS}
    async with h.namespace() as ns:
        await ns.stack.start_runners(h.options.runners, ECHO)
        url = f"{await ns.stack.serve(ECHO)}/invoke/{ECHO}?wait=5"

        async def warm() -> None:
            await h.post_many(url, 100, 10, body=BODY)

        async def measure(i: int) -> Figures:
            figures: Figures = {}
            for callers in CALLERS:
                run = await h.post_many(url, n, callers, BODY, f"sync x{callers} ({i + 1})")
                samples[callers].append(run.latencies_ms)
                lat = latency_figures(f"c{callers}", run.latencies_ms, p999=True)
                figures.update(lat)
                figures[f"c{callers}_ok"] = run.ok(200)
                figures[f"c{callers}_per_s"] = n / run.elapsed if run.elapsed else None
            return figures

        result.repeats = await h.repeat(measure, warm)
    for callers, runs in samples.items():
        if runs:
            result.samples[f"sync x{callers}"] = downsample(runs[len(runs) // 2])
    not_ok = [c for c in CALLERS for r in result.repeats if (r.get(f"c{c}_ok") or 0) < n]
    if not_ok:
        result.notes.append(
            f"some ?wait= calls did not answer 200 at callers {sorted(set(not_ok))}"
        )
    med = result.median("c1_p50_ms")
    result.checks.append(
        Check(
            f"target: sync ?wait= p50 under {TARGET_P50_MS:.0f} ms at 1 caller",
            med is not None and med < TARGET_P50_MS,
            f"median p50 {med:.2f} ms" if med is not None else "not measured",
        )
    )
    return result
