"""scaling: the warm drain (see ``drain``) with 1, 2 and 4 runner processes sharing one stream.

For each level R the runners are started and report ``noop``; each repeat freezes all R with
SIGSTOP, queues N = 20,000 no-op invocations (``Client.enqueue_many``, not timed), resumes them
(t0) and stops the clock when the stream is observed empty with nothing pending (t1).  Figures
per level ``r<R>_``: ``drain_per_s`` = N / (t1 - t0), ``runner_cpu_us_per_inv`` (all R runner
processes' CPU over the drain / N), ``redis_cpu_us_per_inv``.  On a 2-core machine the runners
share the cores with Redis, so more than 2 runners mostly shows contention, not headroom.
``--quick`` measures 1 and 2 runners only.
"""

from __future__ import annotations

from bench.handlers import NOOP
from bench.harness import Harness
from bench.observe import wait_drained
from bench.result import Figures, WorkloadResult
from bench.workloads.drain import queue, warm_drain

NAME = "scaling"
LEVELS = (1, 2, 4)


async def run(h: Harness) -> WorkloadResult:
    n = h.n(20_000, 300)
    levels = LEVELS[:2] if h.options.quick else LEVELS
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n": n, "runner_levels": list(levels)},
        headline=[f"r{r}_drain_per_s" for r in levels],
    )
    repeats: list[Figures] = [{} for _ in range(h.repeats)]
    async with h.namespace() as ns:
        for level in levels:
            missing = level - len(ns.stack.runners)
            if missing > 0:
                await ns.stack.start_runners(missing, NOOP)
            await queue(ns, min(n, 1000))
            await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=60.0)
            for i in range(h.repeats):
                figures = await warm_drain(h, ns, n)
                repeats[i].update({f"r{level}_{k}": v for k, v in figures.items() if k != "n"})
    result.repeats = repeats
    one = result.median("r1_drain_per_s")
    for level in levels[1:]:
        many = result.median(f"r{level}_drain_per_s")
        if one and many:
            result.notes.append(f"{level} runners drain {many / one:.2f}x the rate of 1")
    return result
