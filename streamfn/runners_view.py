"""What an operator sees of the live runners: ``GET /runners`` and ``streamfn runners``.

Built from the registry reports (:class:`~streamfn.registry.RunnerReport`), which each runner
rewrites every heartbeat: its in-flight count and oldest lease are that recent.  Ages are
computed here against Redis ``TIME``, the clock the reports' times are on.  Orphaned work
(:mod:`streamfn.orphans`) is read at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.orphans import layouts_of, read_orphaned
from streamfn.redis_time import redis_now_ms
from streamfn.registry import RunnerReport


def _age_s(now_ms: int, at_ms: int) -> float:
    return round(max(0, now_ms - at_ms) / 1000, 3)


def runner_row(report: RunnerReport, now_ms: int) -> dict[str, Any]:
    """One runner as ``GET /runners`` shows it (times in ms, ages in s)."""
    lease = report.oldest_lease
    return {
        "id": report.runner_id,
        "host": report.host,
        "pid": report.pid,
        "version": report.version,
        "started_at": report.started_ms,
        "heartbeat_at": report.at_ms,
        "heartbeat_age_s": _age_s(now_ms, report.at_ms),
        "concurrency": report.concurrency,
        "in_flight": report.in_flight,
        "functions": sorted(report.functions),
        "paused": report.paused,
        "oldest_lease": None
        if lease is None
        else {
            "id": lease.invocation_id,
            "queue": lease.queue,
            "since": lease.since_ms,
            "age_s": _age_s(now_ms, lease.since_ms),
        },
    }


async def read_view(
    redis: AnyRedis,
    keys: Keys,
    reports: Iterable[RunnerReport],
    entries: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """``{"runners": [...], "orphaned": [{"function", "entries"}]}``: the live runners by id,
    and the functions of ``entries`` (catalog entries) holding orphaned work."""
    live = sorted(reports, key=lambda r: r.runner_id)
    now_ms = await redis_now_ms(redis)
    orphaned = await read_orphaned(redis, keys, layouts_of(entries), {r.runner_id for r in live})
    return {
        "runners": [runner_row(r, now_ms) for r in live],
        "orphaned": [{"function": fn, "entries": n} for fn, n in sorted(orphaned.items()) if n],
    }
