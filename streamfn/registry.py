"""What each live runner has loaded: written by runners, read by gateways and the CLI.

Each runner keeps ``ns:runner:<id>`` (JSON, expiring) fresh and its id in the ``ns:runners``
set.  Runners re-publish at once when a file changes, so a dropped or removed file shows
within a second.  Every report also records its loaded functions as *deployed*
(:mod:`streamfn.deployed`): a deployed function takes invocations while no runner is live,
until it is removed.  :func:`read_catalog` reads the reports and that state together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streamfn import codec, departures, deployed, pauses
from streamfn.connection import AnyRedis
from streamfn.deployed import Loaded
from streamfn.keys import Keys
from streamfn.redis_time import redis_now_ms
from streamfn.settings import DEFAULTS


@dataclass(frozen=True, slots=True)
class Lease:
    """The oldest entry a runner holds: its invocation id, queue, and since when (ms, the
    runner's estimate of the Redis clock)."""

    invocation_id: str
    queue: str
    since_ms: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.invocation_id, "queue": self.queue, "since": self.since_ms}

    @classmethod
    def from_json(cls, d: Any) -> Lease | None:
        if not isinstance(d, dict):
            return None
        return cls(str(d.get("id", "")), str(d.get("queue", "")), int(d.get("since", 0)))


@dataclass(frozen=True, slots=True)
class RunnerReport:
    """One runner's view: loaded functions with their policy, load errors by file, and the
    functions whose file left its directory while it ran (-> when, ms), until recorded as
    removed.  Also what an operator asks of a runner (``GET /runners``), as of ``at`` (when
    it was published, ms): its version, when it started (ms), invocations in flight, the
    oldest lease it holds and which of its functions it has seen paused.  A report is
    rewritten every heartbeat (and at once when the paused set changes), so those are at
    most one heartbeat interval old."""

    runner_id: str
    functions: dict[str, dict[str, Any]]
    errors: dict[str, str]
    host: str = ""
    pid: int = 0
    concurrency: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    version: str = ""
    started_ms: int = 0
    at_ms: int = 0
    in_flight: int = 0
    oldest_lease: Lease | None = None
    paused: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return codec.dumps(
            {
                "runner": self.runner_id,
                "functions": self.functions,
                "errors": self.errors,
                "host": self.host,
                "pid": self.pid,
                "concurrency": self.concurrency,
                "removed": self.removed,
                "version": self.version,
                "started": self.started_ms,
                "at": self.at_ms,
                "in_flight": self.in_flight,
                "lease": None if self.oldest_lease is None else self.oldest_lease.to_json(),
                "paused": self.paused,
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
            removed={k: int(v) for k, v in d.get("removed", {}).items()},
            version=str(d.get("version", "")),
            started_ms=int(d.get("started", 0)),
            at_ms=int(d.get("at", 0)),
            in_flight=int(d.get("in_flight", 0)),
            oldest_lease=Lease.from_json(d.get("lease")),
            paused=[str(fn) for fn in d.get("paused", [])],
        )


async def publish(
    redis: AnyRedis, keys: Keys, report: RunnerReport, ttl_s: float, *, now_ms: int
) -> None:
    """Write (or refresh) a runner's report; it vanishes ``ttl_s`` after the runner stops.
    Its functions are deployed, last seen at ``now_ms`` (Redis clock)."""
    ttl_ms = max(1000, int(ttl_s * 1000))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(keys.runner(report.runner_id), report.to_json(), px=ttl_ms)
        pipe.sadd(keys.runners, report.runner_id)
        deployed.record_loaded(pipe, keys, report.functions, now_ms)
        await pipe.execute()


async def withdraw(
    redis: AnyRedis,
    keys: Keys,
    runner_id: str,
    functions: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    now_ms: int | None = None,
) -> None:
    """Remove a runner's report at once (clean shutdown).  ``functions``, what it still had
    loaded, were last seen now: their retention runs from ``now_ms`` (Redis clock)."""
    if functions and now_ms is None:
        raise ValueError("withdraw: the functions a runner had were seen at now_ms: pass it")
    at = await redis_now_ms(redis) if now_ms is None else now_ms
    async with redis.pipeline(transaction=False) as pipe:
        # Not pipe.delete: redis-py's cluster pipeline makes its multi-key commands coroutines.
        pipe.execute_command("DEL", keys.runner(runner_id))
        pipe.srem(keys.runners, runner_id)
        deployed.record_loaded(pipe, keys, functions or {}, at)
        departures.record(pipe, keys, [runner_id], at)
        await pipe.execute()


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every live runner's report, and the state of every function ever deployed.

    ``functions``: the deployed ones (``state`` ``live`` or ``no_runner``; ``runners`` counts
    the live runners that load it), which take invocations; ``removed``: the removed ones.
    Both are catalog entries (name, policy, state and its times, ``paused`` and, when it is,
    ``paused_at``), sorted by name.  ``paused``: every paused name -> since (ms).
    """

    runners: list[RunnerReport] = field(default_factory=list)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: dict[str, dict[str, Any]] = field(default_factory=dict)
    paused: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in self.runners:
            out.update(r.errors)
        return dict(sorted(out.items()))


def loaded_by(reports: list[RunnerReport]) -> dict[str, Loaded]:
    """The union of the reports: each function's policy (the first report's) and runners."""
    merged: dict[str, Loaded] = {}
    for r in reports:
        for name, policy in r.functions.items():
            seen = merged.get(name)
            merged[name] = (
                Loaded(policy, 1) if seen is None else Loaded(seen.policy, seen.runners + 1)
            )
    return merged


async def read_reports(redis: AnyRedis, keys: Keys, ids: set[bytes]) -> list[RunnerReport]:
    """The live reports among ``ids``; ids whose report expired are dropped from the index,
    and recorded as departed (:mod:`streamfn.departures`)."""
    names = sorted(i.decode() for i in ids)
    if not names:
        return []
    raws: list[bytes | None] = await redis.mget([keys.runner(i) for i in names])  # type: ignore[assignment]
    gone = [i for i, raw in zip(names, raws, strict=True) if raw is None]
    if gone:
        now_ms = await redis_now_ms(redis)
        async with redis.pipeline(transaction=False) as pipe:
            pipe.srem(keys.runners, *gone)
            departures.record(pipe, keys, gone, now_ms)
            await pipe.execute()
    return [RunnerReport.from_json(raw) for raw in raws if raw is not None]


async def live_reports(redis: AnyRedis, keys: Keys) -> list[RunnerReport]:
    """Every live runner's report."""
    ids: set[bytes] = await redis.smembers(keys.runners)  # type: ignore[assignment]
    return await read_reports(redis, keys, ids)


async def read_catalog(
    redis: AnyRedis, keys: Keys, retention_s: float = DEFAULTS.deployed_retention
) -> Catalog:
    """Every live runner's report and every function's state (:mod:`streamfn.deployed`,
    :mod:`streamfn.pauses`): two round trips, and a third (``TIME``) only while some function
    waits for a runner."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.smembers(keys.runners)
        pipe.hgetall(keys.deployed)
        pipe.hgetall(keys.removed)
        pipe.hgetall(keys.paused)
        ids, raw_deployed, raw_removed, raw_paused = await pipe.execute()
    reports = await read_reports(redis, keys, ids)
    loaded = loaded_by(reports)
    removing = {fn: at for r in reports for fn, at in r.removed.items()}
    deployments = deployed.parse_deployments(raw_deployed)
    removals = deployed.parse_removals(raw_removed)
    now_ms = 0
    retention_ms = int(retention_s * 1000)
    if deployed.needs_clock(loaded, removing, deployments, removals, retention_ms):
        now_ms = await redis_now_ms(redis)
    states = deployed.classify(
        loaded,
        removing,
        deployments,
        removals,
        now_ms=now_ms,
        retention_ms=retention_ms,
    )
    paused = pauses.parse(raw_paused)
    for entries in (states.functions, states.removed):
        for fn, entry in entries.items():
            entry["paused"] = fn in paused
            if fn in paused:
                entry["paused_at"] = paused[fn]
    return Catalog(reports, states.functions, states.removed, paused)
