"""drain-logs: what per-invocation log capture costs a hot handler: the warm drain of ``drain``
with the no-op, and with ``noop_log`` (the no-op plus one ``ctx.log.info``), same runner, same
run, interleaved per repeat.

The runner logs at INFO here (the other workloads run at WARNING), so ``noop_log``'s line is
both written to the runner's log (a file) and kept for the invocation
(``STREAMFN_LOG_MAX_BYTES``, default), then stored by the completer with the outcome (one HSET
and one PEXPIRE per invocation).  ``log_vs_noop`` = the logging drain rate / the no-op's
(the issue's line: logging must not halve it); ``log_extra_cpu_us`` = runner CPU µs per
invocation added; ``log_bytes_per_inv`` = Redis ``used_memory`` grown per logged invocation.
"""

from __future__ import annotations

from typing import Any

from bench.handlers import NOOP, NOOP_LOG
from bench.harness import Harness
from bench.observe import wait_drained
from bench.result import Check, Figures, WorkloadResult
from bench.workloads.drain import queue, warm_drain
from streamfn.connection import AnyRedis

NAME = "drain-logs"
FLOOR = 0.5  # the bound: the logging handler keeps at least half the no-op's rate


async def used_memory(redis: AnyRedis) -> int:
    info: dict[str, Any] = await redis.info("memory")
    return int(info["used_memory"])


async def run(h: Harness) -> WorkloadResult:
    n = h.n(10_000, 300)
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n": n, "runners": 1, "log_level": "INFO"},
        headline=["noop_per_s", "log_per_s", "log_vs_noop", "log_extra_cpu_us"],
    )
    async with h.namespace() as ns:
        ns.stack.env["STREAMFN_LOG_LEVEL"] = "INFO"
        await ns.stack.start_runners(1, [NOOP, NOOP_LOG])

        async def warm() -> None:
            for fn in (NOOP, NOOP_LOG):
                await queue(ns, min(n, 1000), function=fn)
                await wait_drained(ns.redis, ns.stack.keys, fn, timeout=60.0)

        async def measure(i: int) -> Figures:
            plain = await warm_drain(h, ns, n, NOOP)
            before = await used_memory(ns.redis)
            logged = await warm_drain(h, ns, n, NOOP_LOG)
            grown = await used_memory(ns.redis) - before
            rate, log_rate = _value(plain, "drain_per_s"), _value(logged, "drain_per_s")
            cpu, log_cpu = (
                _value(plain, "runner_cpu_us_per_inv"),
                _value(logged, "runner_cpu_us_per_inv"),
            )
            return {
                "n": n,
                "noop_per_s": rate,
                "log_per_s": log_rate,
                "log_vs_noop": log_rate / rate,
                "noop_cpu_us": cpu,
                "log_cpu_us": log_cpu,
                "log_extra_cpu_us": log_cpu - cpu,
                "log_redis_cmds_per_inv": logged["redis_cmds_per_inv"],
                "noop_redis_cmds_per_inv": plain["redis_cmds_per_inv"],
                "log_bytes_per_inv": grown / n,
                "succeeded": logged["succeeded"],
            }

        result.repeats = await h.repeat(measure, warm)
    ratio = result.median("log_vs_noop")
    result.checks.append(
        Check(
            f"logging once per invocation keeps at least {FLOOR:.0%} of the no-op's drain rate",
            ratio is not None and ratio >= FLOOR,
            f"median {ratio:.2f}x" if ratio is not None else "not measured",
        )
    )
    return result


def _value(figures: Figures, name: str) -> float:
    value = figures[name]
    assert value is not None, f"warm_drain always measures {name}"
    return value
