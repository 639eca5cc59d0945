"""One page of a function's invocations, newest first, from the index (no SCAN).

Candidates come from the narrowest index the query allows (:meth:`Query.plan`), read with
``index_range.lua`` per queue and merged by id; each is then checked against every filter on
its record (an id range already bounds the time).  A page holds at most ``limit`` rows and
examines at most :data:`SCAN_BUDGET` candidates; either way ``next_cursor`` is the last id
examined, so the next page starts strictly below it: each invocation is returned once however
many arrive meanwhile (new ids are greater than any cursor).  ``next_cursor`` None: no more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streamfn import codec, partitions
from streamfn.connection import AnyRedis
from streamfn.index.query import Query
from streamfn.index.stats import trim
from streamfn.keys import GROUP, Keys
from streamfn.names import queue_of
from streamfn.scripts import run
from streamfn.scripts.index_calls import index_range

SCAN_BUDGET = 2000
"""Most candidates one page examines: a rare filter answers a short page and a cursor."""

FIELDS = (
    "status",
    "attempt",
    "created",
    "due",
    "queued_at",
    "finished",
    "duration_ms",
    "entry",
    "tags",
    "x_schedule",
    "error",
)


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None


async def list_page(redis: AnyRedis, keys: Keys, queues: Sequence[str], query: Query) -> Page:
    """A page of ``query``'s function over its ``queues`` (:func:`.stats.queues_of`)."""
    if query.idempotency_key is not None:
        return await _by_idempotency(redis, keys, queues, query)
    scan = _Scan(redis, keys, query)
    below = dict.fromkeys(queues, query.below)
    while below:
        found, full = await scan.read(below)
        # Every id at or above the highest last id of a full batch was read in every queue.
        floor = max(full.values()) if full else ""
        if await scan.examine(sorted((c for c in found if c[0] >= floor), reverse=True)):
            await scan.tidy()
            return Page(scan.rows, scan.last)
        if not full:
            break
        left = {c[1] for c in found if c[0] < floor}  # read, not yet examined
        below = {q: floor for q in below if q in full or q in left}
    await scan.tidy()
    return Page(scan.rows, None)


Candidate = tuple[str, str, str]
"""(invocation id, queue, index prefix it was found under)."""


class _Scan:
    """One page's reads: candidates per queue, rows that match, what to tidy afterwards."""

    def __init__(self, redis: AnyRedis, keys: Keys, query: Query) -> None:
        self.redis, self.keys, self.query = redis, keys, query
        self.kind, self.prefixes = query.plan()
        self.batch = min(max(query.limit * 2, 64), 1000)
        self.rows: list[dict[str, Any]] = []
        self.examined, self.last = 0, ""
        self.stale: set[str] = set()  # queues with entries of expired records
        self.lost: list[tuple[str, str]] = []  # live entries whose record is gone

    async def read(self, below: dict[str, str]) -> tuple[list[Candidate], dict[str, str]]:
        """Each queue's newest ``batch`` candidates below its bound; the queues whose batch
        was full, with its last id."""
        found: list[Candidate] = []
        full: dict[str, str] = {}
        for q, bound in below.items():
            zset = self.keys.index_status(q) if self.kind == "status" else self.keys.index_by(q)
            call = index_range(zset, self.prefixes, self.batch, bound, self.query.since)
            flat = await run(self.redis, call)
            ids = [codec.text(flat[i]) for i in range(0, len(flat), 2)]
            found += [(i, q, self.prefixes[int(flat[2 * n + 1]) - 1]) for n, i in enumerate(ids)]
            if len(ids) == self.batch:
                full[q] = ids[-1]
        return found, full

    async def examine(self, candidates: list[Candidate]) -> bool:
        """Check ``candidates`` (newest first) on their records; True once the page is done."""
        for start in range(0, len(candidates), 100):
            chunk = candidates[start : start + 100]
            rows = await _rows(self.redis, self.keys, chunk)
            for (inv, q, prefix), row in zip(chunk, rows, strict=True):
                self.examined, self.last = self.examined + 1, inv
                if row is None:
                    if prefix == "live:":
                        self.lost.append((q, inv))
                    else:
                        self.stale.add(q)  # expired, not yet trimmed
                elif _matches(row, self.query):
                    self.rows.append(row)
                if len(self.rows) == self.query.limit or self.examined >= SCAN_BUDGET:
                    return True
        return False

    async def tidy(self) -> None:
        """Trim the queues that showed expired entries; drop live entries of lost records
        (deleted by hand, or evicted: enqueue writes a record and its entry together)."""
        for q in sorted(self.stale):
            await trim(self.redis, self.keys, q)
        for q, inv in self.lost:
            await self.redis.zrem(self.keys.index_status(q), f"live:{inv}")


async def _by_idempotency(redis: AnyRedis, keys: Keys, queues: Sequence[str], query: Query) -> Page:
    """The invocation the Idempotency-Key maps to (in whichever queue holds it), while the
    key is remembered (``STREAMFN_IDEMPOTENCY_TTL``)."""
    key = query.idempotency_key or ""
    found = []
    for q in queues:
        raw = await redis.get(keys.idempotency(q, key))
        if raw is None:
            continue
        inv = codec.text(raw)
        below, since = query.below, query.since
        if queue_of(inv) == q and (not below or inv < below) and inv >= since:
            found.append((inv, q, ""))
    found.sort(reverse=True)
    rows = [r for r in await _rows(redis, keys, found) if r is not None and _matches(r, query)]
    return Page(rows[: query.limit], None)


def _matches(row: dict[str, Any], query: Query) -> bool:
    if query.status is not None and row["status"] != query.status:
        return False
    if query.tag is not None and query.tag not in row.get("tags", ()):
        return False
    return query.schedule is None or row.get("schedule") == query.schedule


async def _rows(
    redis: AnyRedis, keys: Keys, chunk: Sequence[tuple[str, str, str]]
) -> list[dict[str, Any] | None]:
    """Each candidate's summary row (None: no record); a queued one whose stream entry is in
    the group's pending list is "running" (as :func:`streamfn.record.load_invocation`)."""
    if not chunk:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for inv, q, _ in chunk:
            pipe.hmget(keys.invocation(q, inv), FIELDS)
        raw = await pipe.execute()
    rows: list[dict[str, Any] | None] = []
    queued: list[tuple[dict[str, Any], str, str]] = []  # (row, stream, entry)
    for (inv, q, _), values in zip(chunk, raw, strict=True):
        f = dict(zip(FIELDS, values, strict=True))
        row = _row(inv, partitions.function_of_queue(q), f)
        rows.append(row)
        if row is not None and row["status"] == "queued" and f["entry"]:
            queued.append((row, keys.stream(q), codec.text(f["entry"])))
    if queued:
        async with redis.pipeline(transaction=False) as pipe:
            for _, stream, entry in queued:
                pipe.xpending_range(stream, GROUP, min=entry, max=entry, count=1)
            pending = await pipe.execute(raise_on_error=False)
        for (row, _, _), p in zip(queued, pending, strict=True):
            if p and not isinstance(p, Exception):  # NOGROUP: not delivered
                row["status"] = "running"
                row["deliveries"] = int(p[0]["times_delivered"])
    return rows


def _row(inv: str, function: str, f: dict[str, bytes | None]) -> dict[str, Any] | None:
    if f["status"] is None:
        return None
    row: dict[str, Any] = {
        "id": inv,
        "function": function,
        "status": codec.text(f["status"]),
        "attempt": _int(f["attempt"]) or 1,
    }
    for name, field in (
        ("created_at", "created"),
        ("due_at", "due"),
        ("queued_at", "queued_at"),
        ("finished_at", "finished"),
        ("duration_ms", "duration_ms"),
    ):
        value = _int(f[field])
        if value is not None:
            row[name] = value
    if f["tags"]:
        row["tags"] = codec.text(f["tags"]).split(",")
    if f["x_schedule"]:
        row["schedule"] = codec.text(f["x_schedule"])
    if f["error"]:
        row["error"] = codec.loads(f["error"])
    return row


def _int(raw: bytes | None) -> int | None:
    return None if raw is None else int(float(raw))
