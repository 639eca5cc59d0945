"""Watching Redis during a measurement: when is the work done, and what did each record say.

Completion of our system is detected without touching the hot path: the complete script XACKs
*and* XDELs each finished entry (streams hold only live work), so once everything is enqueued,
``XLEN {ns:fn}:stream == 0`` and an empty pending list mean every invocation has finished.  One
pipelined XLEN + XPENDING every ``interval`` seconds (2 ms: about 4% of one core of client CPU).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.exceptions import ResponseError

from bench.failure import BenchError
from streamfn.connection import AnyRedis
from streamfn.keys import GROUP, Keys
from streamfn.names import queue_of


async def backlog(redis: AnyRedis, keys: Keys, function: str) -> tuple[int, int]:
    """(entries in the stream, entries delivered but not yet acknowledged)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.xlen(keys.stream(function))
        pipe.xpending(keys.stream(function), GROUP)
        length, pending = await pipe.execute(raise_on_error=False)
    if isinstance(length, Exception):
        raise length
    if isinstance(pending, ResponseError):  # NOGROUP: nothing was ever delivered
        return int(length), 0
    if isinstance(pending, Exception):
        raise pending
    return int(length), int(pending["pending"])


async def wait_drained(
    redis: AnyRedis, keys: Keys, function: str, timeout: float, interval: float = 0.002
) -> float:
    """Block until ``function``'s stream is empty; returns ``time.perf_counter()`` at that."""
    deadline = time.monotonic() + timeout
    while True:
        length, pending = await backlog(redis, keys, function)
        if length == 0 and pending == 0:
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise BenchError(
                f"{function}: {length} entries still in the stream ({pending} delivered, "
                f"unacknowledged) after {timeout:.0f}s; is the runner alive? see its log"
            )
        await asyncio.sleep(interval)


async def wait_streams_empty(
    redis: AnyRedis, streams: Sequence[str], timeout: float, interval: float = 0.002
) -> tuple[float, Counter[str]]:
    """Block until every stream in ``streams`` is empty; ``(time.perf_counter() then, XLENs
    sent per stream)``, so a command count can leave the bench's own polls out.

    XLEN alone suffices: the complete script XACKs and XDELs an entry in one call, so an
    empty stream has nothing delivered and unfinished either.  A stream seen empty is not
    polled again (everything was enqueued before the wait began).
    """
    deadline = time.monotonic() + timeout
    left = list(dict.fromkeys(streams))
    sent: Counter[str] = Counter()
    while True:
        async with redis.pipeline(transaction=False) as pipe:
            for stream in left:
                pipe.xlen(stream)
            lengths = await pipe.execute()
        sent.update(left)
        now = time.perf_counter()
        left = [s for s, n in zip(left, lengths, strict=True) if int(n)]
        if not left:
            return now, sent
        if time.monotonic() > deadline:
            raise BenchError(
                f"{sum(map(int, lengths))} entries still in {len(left)} stream(s) after "
                f"{timeout:.0f}s ({left[0]} among them); are the runners alive? see their logs"
            )
        await asyncio.sleep(interval)


@dataclass(slots=True)
class Records:
    """What the records of a set of invocations say once they are done (Redis clock, ms)."""

    statuses: Counter[str] = field(default_factory=Counter)
    end_to_end_ms: list[float] = field(default_factory=list)  # finished - created
    promote_late_ms: list[float] = field(default_factory=list)  # queued_at - due
    finish_late_ms: list[float] = field(default_factory=list)  # finished - due

    @property
    def succeeded(self) -> int:
        return self.statuses["succeeded"]


async def read_records(
    redis: AnyRedis, keys: Keys, ids: Sequence[str], due_ms: Sequence[int] | None = None
) -> Records:
    """HMGET each record's status and timestamps, 1,000 per pipelined round trip."""
    out = Records()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        async with redis.pipeline(transaction=False) as pipe:
            for inv in chunk:
                queue = queue_of(inv)
                if queue is None:
                    raise BenchError(f"malformed invocation id {inv!r} from the system under test")
                pipe.hmget(
                    keys.invocation(queue, inv), "status", "created", "queued_at", "finished"
                )
            rows = await pipe.execute()
        for i, (status, created, queued, finished) in enumerate(rows):
            out.statuses[status.decode() if status else "missing"] += 1
            if finished is not None and created is not None:
                out.end_to_end_ms.append(float(finished) - float(created))
            if due_ms is not None:
                due = due_ms[start + i]
                if queued is not None:
                    out.promote_late_ms.append(float(queued) - due)
                if finished is not None:
                    out.finish_late_ms.append(float(finished) - due)
    return out


async def drop_namespace(redis: AnyRedis, namespace: str) -> int:
    """UNLINK every key of ``namespace`` (never FLUSHDB: the Redis may be someone else's).

    The MATCH patterns are the namespace's own: its hash tags ``{<ns>:...}`` and its untagged
    keys ``<ns>:...``.  On a Redis Cluster redis-py's ``scan_iter`` runs the SCAN on every
    master, each to its own cursor's end, and ``unlink`` splits the batch by slot.
    """
    dropped = 0
    for pattern in (f"{{{namespace}:*", f"{namespace}:*"):
        batch: list[bytes] = []
        async for key in redis.scan_iter(match=pattern, count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                dropped += await redis.unlink(*batch)
                batch.clear()
        if batch:
            dropped += await redis.unlink(*batch)
    return dropped
