"""idle: what N deployed functions cost when there is nothing to do: CPU of every process and
Redis, and the commands Redis runs per second.

For each N of 3, 300 and 1,000 (``--n N``: that N alone), a fresh namespace gets a functions
dir of N no-op handlers (``idle_0001`` ...), one gateway and ``--runners`` runners serving all of
them (and whatever else the deployment of this commit starts beside them:
:func:`bench.harness.BenchStack.start_background`).  Once every runner reports all N and the
gateway lists them, the stack settles for 12 s (1 s with ``--quick``: past the scheduler's
first look at the runners' reports, 10 s apart, after which it enters their queues in its
indexes once), then each repeat is a window of 30 s (5 s with ``--quick``) with no invocation
at all.  Over the window:
``n<N>_runner_cpu_pct`` (the runner processes' utime + stime from ``/proc``, in % of one
core), ``n<N>_gateway_cpu_pct``, ``n<N>_background_cpu_pct`` (the other processes, 0 when
there are none), ``n<N>_redis_cpu_pct`` (``used_cpu_user + used_cpu_sys``),
``n<N>_work_cpu_pct`` (runner + background + Redis: the target's sum) and
``n<N>_commands_per_s`` (every ``INFO commandstats`` call, Lua's own commands included, but
the bench's own ``INFO`` readings).  The commands that ran most are listed in the notes.

Targets (issue 12): with the largest N (1,000), runner + background + Redis under 5% of one
core, and commands/s within 2x of the 3-function case.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from bench.cpu import cpu_seconds
from bench.handlers import write_noops
from bench.harness import Harness, Namespace
from bench.nodes import SELF_COMMANDS, Reading, read_masters
from bench.result import Check, Figures, WorkloadResult
from streamfn.launch import Child

NAME = "idle"
SIZES = (3, 300, 1000)
WINDOW_S, QUICK_WINDOW_S = 30.0, 5.0
SETTLE_S, QUICK_SETTLE_S = 12.0, 1.0
TARGET_CPU_PCT = 5.0
TARGET_COMMANDS_RATIO = 2.0
READY_TIMEOUT = 120.0
TOP = 6


def names(n: int) -> list[str]:
    return [f"idle_{i:04d}" for i in range(1, n + 1)]


def _calls(before: dict[str, Reading], after: dict[str, Reading]) -> Counter[str]:
    """Calls per command over every master between two readings, the bench's own left out."""
    calls: Counter[str] = Counter()
    for name, end in after.items():
        start = before.get(name)
        for command, count in end.calls.items():
            if command not in SELF_COMMANDS:
                calls[command] += count - (start.calls.get(command, 0) if start else 0)
    return calls


async def window(
    ns: Namespace, seconds: float, background: list[Child]
) -> tuple[Figures, Counter[str]]:
    """One idle window: CPU of every process and of Redis, commands per second."""
    runners, gateways = ns.stack.runners, ns.stack.gateways
    r0, g0, b0 = cpu_seconds(*runners), cpu_seconds(*gateways), cpu_seconds(*background)
    m0 = await read_masters(ns.redis)
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    r1, g1, b1 = cpu_seconds(*runners), cpu_seconds(*gateways), cpu_seconds(*background)
    m1 = await read_masters(ns.redis)
    elapsed = time.perf_counter() - t0
    redis_s = sum(m1[k].cpu_s - m0[k].cpu_s for k in m1 if k in m0)
    calls = _calls(m0, m1)

    def pct(cpu: float) -> float:
        return cpu / elapsed * 100

    figures: Figures = {
        "runner_cpu_pct": pct(r1 - r0),
        "gateway_cpu_pct": pct(g1 - g0),
        "background_cpu_pct": pct(b1 - b0),
        "redis_cpu_pct": pct(redis_s),
        "work_cpu_pct": pct(r1 - r0 + b1 - b0 + redis_s),
        "commands_per_s": sum(calls.values()) / elapsed,
    }
    return figures, Counter({k: round(v / elapsed) for k, v in calls.items()})


async def measure_size(h: Harness, n: int, into: list[Figures]) -> str:
    """Every repeat's window with ``n`` idle functions; returns the top-commands note."""
    functions = write_noops(h.tmp / f"idle-{n}", names(n))
    settle = QUICK_SETTLE_S if h.options.quick else SETTLE_S
    seconds = QUICK_WINDOW_S if h.options.quick else WINDOW_S
    top: Counter[str] = Counter()
    async with h.namespace(functions_dir=functions) as ns:
        background = ns.stack.start_background()
        await ns.stack.start_runners(h.options.runners, names(n), timeout=READY_TIMEOUT)
        gateway = ns.stack.start_gateway()
        await ns.stack.await_ready(gateway, functions=set(names(n)), timeout=READY_TIMEOUT)
        await asyncio.sleep(settle)
        for i in range(h.repeats):
            figures, calls = await window(ns, seconds, background)
            into[i].update({f"n{n}_{k}": v for k, v in figures.items()})
            top.update(calls)
    per = ", ".join(f"{cmd} {c / h.repeats:,.0f}/s" for cmd, c in top.most_common(TOP))
    return f"{n} functions, top commands: {per}"


async def run(h: Harness) -> WorkloadResult:
    sizes = (h.options.n,) if h.options.n is not None else SIZES
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={
            "sizes": list(sizes),
            "runners": h.options.runners,
            "window_s": QUICK_WINDOW_S if h.options.quick else WINDOW_S,
        },
        headline=[
            f"n{n}_{k}"
            for n in sizes
            for k in ("runner_cpu_pct", "background_cpu_pct", "redis_cpu_pct", "commands_per_s")
        ],
    )
    result.repeats = [{} for _ in range(h.repeats)]
    for n in sizes:
        result.notes.append(await measure_size(h, n, result.repeats))
    _checks(result, sizes)
    return result


def _checks(result: WorkloadResult, sizes: tuple[int, ...]) -> None:
    most, fewest = max(sizes), min(sizes)
    work = result.median(f"n{most}_work_cpu_pct")
    result.checks.append(
        Check(
            f"target: with {most:,} idle functions, runner + background + Redis under "
            f"{TARGET_CPU_PCT:.0f}% of one core",
            None if work is None else work < TARGET_CPU_PCT,
            "not measured" if work is None else f"median {work:.1f}%",
        )
    )
    if most == fewest:
        return
    many, few = result.median(f"n{most}_commands_per_s"), result.median(f"n{fewest}_commands_per_s")
    ratio = None if not many or not few else many / few
    result.checks.append(
        Check(
            f"target: commands/s with {most:,} functions within {TARGET_COMMANDS_RATIO:.0f}x "
            f"of {fewest}",
            None if ratio is None else ratio <= TARGET_COMMANDS_RATIO,
            "not measured" if ratio is None else f"{many:,.0f}/s vs {few:,.0f}/s = {ratio:.2f}x",
        )
    )
