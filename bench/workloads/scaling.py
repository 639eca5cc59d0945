"""scaling: the warm drain (see ``drain``) with 1, 2 and 4 runner processes on one Redis, then
1 master vs 3 masters with the work spread over several functions, then one hot function with
``PARTITIONS = 1`` vs ``3`` on 3 masters, with each master's share of the commands.

Runners (``r<R>_``): for each level R the runners are started and report ``noop``; each repeat
freezes all R with SIGSTOP, queues N = 20,000 no-op invocations (``Client.enqueue_many``, not
timed), resumes them (t0) and stops the clock when the stream is observed empty with nothing
pending (t1).  ``drain_per_s`` = N / (t1 - t0), ``runner_cpu_us_per_inv`` (all R runner
processes' CPU over the drain / N), ``redis_cpu_us_per_inv``.  On a 2-core machine the runners
share the cores with Redis, so more than 2 runners mostly shows contention, not headroom.
``--quick`` measures 1 and 2 runners only.

Masters: one Redis node and a Redis Cluster of M = 3 masters.  The run's Redis is one of them;
the other is started for this workload (``bench/servers.py``: a private 3-master cluster, or a
private redis-server when ``--redis-url`` names a cluster, whose M masters are then used).
Each variant gets a fresh namespace, a functions dir of its own and 2 runner processes serving
every function in it; each repeat is the same warm drain of N over every function, timed until
every stream of every function is empty (``bench/workloads/_masters.py``).
- ``spread_m1_``, ``spread_m3_``: 9 no-op functions ``spread_<i>``, picked on the cluster so
  that 3 live on each master, each in a shard of its own; the same 9 on one node.
- ``hot_p1_``, ``hot_p3_``: one no-op function ``hot`` whose file declares ``PARTITIONS = 1``
  or ``PARTITIONS = 3``, on the cluster (``_m<M>_``, ``_p<M>_`` and 3 x M functions on M).
Figures per variant: ``drain_per_s``, ``runner_cpu_us_per_inv``, ``redis_cpu_us_per_inv`` and
``redis_cmds_per_inv`` (summed over the masters), ``master<i>_cmd_pct`` (master i's share of
the commands: ``INFO commandstats`` calls, Lua's own commands included, over the drain; the
bench's INFO readings and XLEN polls are left out) and ``master<i>_cpu_pct`` (its share of
``used_cpu_user + used_cpu_sys``); masters are numbered by the first shard they serve.
``balance`` = mean / busiest master's commands (1.0: even).  ``succeeded`` and
``functions_done`` (functions whose every invocation succeeded) are read from the records.
The three masters share the machine's cores with the runners: shares, not rates, are what
this part can show on 2 cores.
"""

from __future__ import annotations

from typing import Any

from bench.handlers import NOOP
from bench.harness import Harness
from bench.observe import wait_drained
from bench.result import Check, Figures, WorkloadResult
from bench.servers import servers
from bench.workloads import _masters
from bench.workloads.drain import queue, warm_drain
from streamfn.launch import RedisUnavailable

NAME = "scaling"
LEVELS = (1, 2, 4)
HOT = "hot"
EVEN_WITHIN = 0.15
"""Issue 11: with PARTITIONS = 3 on 3 masters, each master's share within ±15% of a third."""


async def run(h: Harness) -> WorkloadResult:
    n = h.n(20_000, 300)
    levels = LEVELS[:2] if h.options.quick else LEVELS
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n": n, "runner_levels": list(levels)},
        headline=[f"r{r}_drain_per_s" for r in levels],
    )
    result.repeats = [{} for _ in range(h.repeats)]
    await runner_levels(h, n, levels, result.repeats)
    one = result.median("r1_drain_per_s")
    for level in levels[1:]:
        many = result.median(f"r{level}_drain_per_s")
        if one and many:
            result.notes.append(f"{level} runners drain {many / one:.2f}x the rate of 1")
    try:
        await multi_master(h, n, result)
    except RedisUnavailable as exc:  # no redis-cli, say: keep the runner levels' figures
        result.notes.append(f"the multi-master part did not run: {exc}")
    return result


async def runner_levels(h: Harness, n: int, levels: tuple[int, ...], into: list[Figures]) -> None:
    """``r<R>_``: the warm drain of ``noop`` on the run's Redis with R runners."""
    async with h.namespace() as ns:
        for level in levels:
            missing = level - len(ns.stack.runners)
            if missing > 0:
                await ns.stack.start_runners(missing, NOOP)
            await queue(ns, min(n, 1000))
            await wait_drained(ns.redis, ns.stack.keys, NOOP, timeout=60.0)
            for i in range(h.repeats):
                figures = await warm_drain(h, ns, n)
                into[i].update({f"r{level}_{k}": v for k, v in figures.items() if k != "n"})


async def multi_master(h: Harness, n: int, result: WorkloadResult) -> None:
    """``spread_m1_``/``spread_m<M>_`` and ``hot_p1_``/``hot_p<M>_`` on a cluster of M
    masters (3 unless ``--redis-url`` names another cluster; module docstring)."""
    async with servers(h) as srv:
        m = srv.masters
        result.params["started"] = srv.started
        spread = f"spread_m{m}"
        figures, params = await _masters.variant(h, srv.cluster, spread, None, None, n)
        _merge(result, spread, figures, params)
        names = list(params["functions"])
        figures, params = await _masters.variant(h, srv.single, "spread_m1", names, None, n)
        _merge(result, "spread_m1", figures, params)
        for p in (1, m):
            figures, params = await _masters.variant(h, srv.cluster, f"hot_p{p}", [HOT], p, n)
            _merge(result, f"hot_p{p}", figures, params)
    for variant in ("spread_m1", spread, "hot_p1", f"hot_p{m}"):
        for figure in ("drain_per_s", "runner_cpu_us_per_inv", "balance"):
            result.headline.append(f"{variant}_{figure}")
        result.notes.append(_shares(result, variant))
    result.checks.append(_even(result, f"hot_p{m}", m))


def _merge(
    result: WorkloadResult, prefix: str, figures: list[Figures], params: dict[str, Any]
) -> None:
    for rep, fig in zip(result.repeats, figures, strict=True):
        rep.update({f"{prefix}_{k}": v for k, v in fig.items()})
    result.params[prefix] = params


def _shares(result: WorkloadResult, variant: str) -> str:
    """``variant``: the median share of each master, commands and Redis CPU, as one line."""
    params = result.params.get(variant, {})
    masters = range(1, int(params.get("masters", 0)) + 1)
    cmd = " / ".join(f"{result.median(f'{variant}_master{i}_cmd_pct') or 0:.0f}" for i in masters)
    cpu = " / ".join(f"{result.median(f'{variant}_master{i}_cpu_pct') or 0:.0f}" for i in masters)
    return f"{variant}: per master, % of the commands {cmd}; % of Redis CPU {cpu}"


def _even(result: WorkloadResult, variant: str, masters: int) -> Check:
    """Every master's median command share within ±15% of an equal share."""
    equal = 100 / masters
    shares = [result.median(f"{variant}_master{i}_cmd_pct") for i in range(1, masters + 1)]
    known = [s for s in shares if s is not None]
    passed = len(known) == masters and all(abs(s - equal) <= EVEN_WITHIN * equal for s in known)
    return Check(
        f"target: PARTITIONS = {masters} spreads one function's commands over {masters} "
        f"masters within ±{EVEN_WITHIN:.0%} of {equal:.1f}% each",
        passed if known else None,
        " / ".join(f"{s:.1f}%" for s in known) if known else "not measured",
    )
