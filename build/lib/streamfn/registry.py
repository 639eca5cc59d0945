"""What each live runner has loaded: written by runners, read by gateways and the CLI.

Each runner keeps ``ns:runner:<id>`` (JSON, expiring) fresh and its id in the ``ns:runners``
set.  A function is invokable while at least one live runner reports it loaded.  Runners
re-publish at once when a file changes, so a dropped or removed file shows within a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamfn import codec
from streamfn.connection import AnyRedis
from streamfn.keys import Keys


@dataclass(frozen=True, slots=True)
class RunnerReport:
    """One runner's view: loaded functions with their policy, and load errors by file."""

    runner_id: str
    functions: dict[str, dict[str, Any]]
    errors: dict[str, str]
    host: str = ""
    pid: int = 0
    concurrency: int = 0

    def to_json(self) -> bytes:
        return codec.dumps(
            {
                "runner": self.runner_id,
                "functions": self.functions,
                "errors": self.errors,
                "host": self.host,
                "pid": self.pid,
                "concurrency": self.concurrency,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> RunnerReport:
        d = codec.loads(raw)
        return cls(
            runner_id=d["runner"],
            functions=d.get("functions", {}),
            errors=d.get("errors", {}),
            host=d.get("host", ""),
            pid=int(d.get("pid", 0)),
            concurrency=int(d.get("concurrency", 0)),
        )


async def publish(redis: AnyRedis, keys: Keys, report: RunnerReport, ttl_s: float) -> None:
    """Write (or refresh) a runner's report; it vanishes ``ttl_s`` after the runner stops."""
    ttl_ms = max(1000, int(ttl_s * 1000))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(keys.runner(report.runner_id), report.to_json(), px=ttl_ms)
        pipe.sadd(keys.runners, report.runner_id)
        await pipe.execute()


async def withdraw(redis: AnyRedis, keys: Keys, runner_id: str) -> None:
    """Remove a runner's report at once (clean shutdown)."""
    async with redis.pipeline(transaction=False) as pipe:
        # Not pipe.delete: redis-py's cluster pipeline makes its multi-key commands coroutines.
        pipe.execute_command("DEL", keys.runner(runner_id))
        pipe.srem(keys.runners, runner_id)
        await pipe.execute()


@dataclass(frozen=True, slots=True)
class Catalog:
    """The union of every live runner's report."""

    runners: list[RunnerReport] = field(default_factory=list)

    @property
    def functions(self) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for r in self.runners:
            for name, policy in r.functions.items():
                entry = merged.setdefault(name, {"name": name, **policy, "runners": 0})
                entry["runners"] += 1
        return dict(sorted(merged.items()))

    @property
    def errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in self.runners:
            out.update(r.errors)
        return dict(sorted(out.items()))


async def read_catalog(redis: AnyRedis, keys: Keys) -> Catalog:
    """Every live runner's report; ids whose report expired are dropped from the index."""
    members: set[bytes] = await redis.smembers(keys.runners)  # type: ignore[assignment]
    ids = sorted(i.decode() for i in members)
    if not ids:
        return Catalog()
    raws: list[bytes | None] = await redis.mget([keys.runner(i) for i in ids])  # type: ignore[assignment]
    gone = [i for i, raw in zip(ids, raws, strict=True) if raw is None]
    if gone:
        await redis.srem(keys.runners, *gone)
    return Catalog([RunnerReport.from_json(raw) for raw in raws if raw is not None])
