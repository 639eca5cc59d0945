"""Typed wrappers around the invocation and lease scripts, for one namespace.

Each method builds its call with the script's encoder (``streamfn.scripts.*_calls``), taking
TTLs and caps from settings, and turns the reply into Python values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamfn import codec, outcomes, partitions
from streamfn.batching import ScriptBatcher
from streamfn.connection import AnyRedis
from streamfn.durable import Durability
from streamfn.errors import BacklogFull
from streamfn.keys import GROUP, Keys
from streamfn.names import queue_of
from streamfn.outcomes import Completion
from streamfn.scripts import (
    SCRIPTS,
    Reply,
    index_calls,
    invocation_calls,
    lease_calls,
    run,
    run_batch,
)
from streamfn.settings import Settings

__all__ = ["RDB", "Claimed", "Completion", "Enqueued", "Promoted", "Reclaimed"]


@dataclass(frozen=True, slots=True)
class Enqueued:
    id: str
    status: str  # Reply.QUEUED | Reply.SCHEDULED
    created: bool  # False: an Idempotency-Key repeat, nothing was written
    due_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Promoted:
    promoted: int
    orphaned: int
    next_in_ms: int  # -1: no timer left


@dataclass(frozen=True, slots=True)
class Claimed:
    entry_id: str
    fields: dict[bytes, bytes]
    deliveries: int


@dataclass(frozen=True, slots=True)
class Reclaimed:
    cursor: str
    claimed: list[Claimed]
    deleted: list[str]


class RDB:
    """Script calls for one namespace.  Safe to share across tasks."""

    def __init__(self, redis: AnyRedis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = Keys.of(settings)
        self._enqueue = ScriptBatcher(redis, SCRIPTS.enqueue, Durability.of(settings))

    async def enqueue(
        self,
        function: str,
        invocation_id: str,
        payload: bytes,
        *,
        delay_ms: int = 0,
        at_ms: int = 0,
        notify: bool = False,
        idempotency_key: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Enqueued:
        """Queue ``invocation_id`` in the queue its id names (:func:`streamfn.names.queue_of`).

        Raises :class:`BacklogFull` (nothing written) past ``STREAMFN_MAX_BACKLOG``: each of a
        function's ``P`` queues admits its share of the cap (rounded up).
        """
        queue = _queue(invocation_id)
        if partitions.function_of_queue(queue) != function:
            raise ValueError(f"invocation id {invocation_id!r} is not one of {function}'s")
        cap = self.settings.max_backlog
        layout = partitions.split(queue)[1]
        call = invocation_calls.enqueue(
            self.keys,
            queue,
            invocation_id,
            payload,
            delay_ms=delay_ms,
            at_ms=at_ms,
            notify=notify,
            idempotency_key=idempotency_key,
            idempotency_ttl_ms=int(self.settings.idempotency_ttl * 1000),
            extra=extra,
            max_backlog=-(-cap // layout) if cap > 0 else 0,
        )
        created, inv_id, status, detail = await self._enqueue.call(call)
        status_s = codec.text(status)
        if status_s == Reply.FULL:
            raise BacklogFull(function, int(detail), self.settings.max_backlog)
        due = int(detail) if status_s == Reply.SCHEDULED else None
        return Enqueued(codec.text(inv_id), status_s, bool(created), due)

    async def promote(self, function: str, ids: Sequence[str]) -> Promoted:
        call = invocation_calls.promote(self.keys, function, ids)
        promoted, orphaned, next_in = await run(self.redis, call)
        return Promoted(int(promoted), int(orphaned), int(next_in))

    async def reindex(self, queues: Sequence[str], chunk: int = 500) -> dict[str, Exception]:
        """Enter each queue in its tag's indexes as its keys stand (``reindex.lua``), a
        pipelined round trip per ``chunk``; the queues Redis refused (a key of the wrong type,
        say), with why.  A connection error raises."""
        refused: dict[str, Exception] = {}
        for start in range(0, len(queues), chunk):
            names = queues[start : start + chunk]
            calls = [index_calls.reindex(self.keys, q) for q in names]
            for queue, reply in zip(names, await run_batch(self.redis, calls), strict=True):
                if isinstance(reply, Exception):
                    refused[queue] = reply
        return refused

    async def finish_many(self, consumer: str, items: Sequence[Completion]) -> list[str]:
        """Report finished attempts in one round trip (:func:`streamfn.outcomes.finish_many`)."""
        return await outcomes.finish_many(self.redis, self.keys, self.settings, consumer, items)

    async def cancel(self, invocation_id: str) -> tuple[bool, str]:
        """(cancelled?, status): :class:`Reply` CANCELLED, NOT_FOUND or the status that
        refused it."""
        ttl = int(self.settings.result_ttl * 1000)
        call = invocation_calls.cancel(self.keys, _queue(invocation_id), invocation_id, ttl)
        ok, status = await run(self.redis, call)
        return bool(ok), codec.text(status)

    async def cancel_running(self, invocation_id: str) -> tuple[bool, str]:
        """Ask the runner running ``invocation_id`` to stop it: (requested?, status).

        Status is "cancelling" when requested, "queued" when it is not running (use
        :meth:`cancel`), "not_found", or the final status that refused it.
        """
        queue = _queue(invocation_id)
        ttl = int(self.settings.result_ttl * 1000)
        call = invocation_calls.cancel_running(self.keys, queue, invocation_id, ttl)
        ok, status, _consumer = await run(self.redis, call)
        return bool(ok), codec.text(status)

    async def replay(self, invocation_id: str) -> tuple[bool, str]:
        """(replayed?, new entry id or the status that refused it / "not_found")."""
        call = invocation_calls.replay(self.keys, _queue(invocation_id), invocation_id)
        ok, detail = await run(self.redis, call)
        return bool(ok), codec.text(detail)

    async def discard(self, invocation_id: str) -> tuple[bool, str]:
        """(discarded?, "dead" or the status that refused it / "not_found")."""
        call = invocation_calls.discard(self.keys, _queue(invocation_id), invocation_id)
        ok, detail = await run(self.redis, call)
        return bool(ok), codec.text(detail)

    async def extend(self, function: str, consumer: str, entry_ids: Sequence[str]) -> list[str]:
        """Renew leases; returns the entry ids this consumer no longer owns."""
        if not entry_ids:
            return []
        lost = await run(self.redis, lease_calls.extend(self.keys, function, consumer, entry_ids))
        return [codec.text(e) for e in lost]

    async def reclaim(
        self, function: str, consumer: str, min_idle_ms: int, cursor: str = "0-0", count: int = 100
    ) -> Reclaimed:
        call = lease_calls.reclaim(self.keys, function, consumer, min_idle_ms, cursor, count)
        raw = await run(self.redis, call)
        claimed = [
            Claimed(codec.text(e), _pairs(fields), int(deliveries))
            for e, fields, deliveries in raw[1]
        ]
        return Reclaimed(codec.text(raw[0]), claimed, [codec.text(d) for d in raw[2]])

    async def release(
        self, function: str, consumer: str, entry_id: str, invocation_id: str
    ) -> bool:
        call = lease_calls.release(self.keys, function, consumer, entry_id, invocation_id)
        new = await run(self.redis, call)
        return new is not None

    async def reap_consumers(
        self, function: str, consumer: str, idle_limit_ms: int, cap: int = 100
    ) -> int:
        """Delete up to ``cap`` consumers holding nothing and idle past the limit; how many.

        ``consumer`` (the caller's own name) is never deleted.  A missing stream or group
        deletes nothing.
        """
        call = lease_calls.reap_consumers(self.keys, function, consumer, idle_limit_ms, cap)
        deleted = await run(self.redis, call)
        return int(deleted)

    async def idle_pending(
        self, function: str, min_idle_ms: int, start: str = "-", count: int = 100
    ) -> list[tuple[str, int]]:
        """``(entry id, deliveries)`` of pending entries idle ``min_idle_ms`` or more.

        From ``start`` (inclusive) in stream order, at most ``count``.  A plain read (XPENDING
        with IDLE), no script: it changes nothing, so it needs no atomicity.
        """
        raw: Any = await self.redis.xpending_range(
            self.keys.stream(function), GROUP, min=start, max="+", count=count, idle=min_idle_ms
        )
        return [(codec.text(r["message_id"]), int(r["times_delivered"])) for r in raw]

    async def watch(self, invocation_id: str) -> str | None:
        """Ask for a PUBLISH on finish; returns the current stored status (None: unknown id)."""
        call = invocation_calls.watch(self.keys, _queue(invocation_id), invocation_id)
        status = await run(self.redis, call)
        return None if status is None else codec.text(status)


def _queue(invocation_id: str) -> str:
    """The queue whose keys hold the invocation (:func:`streamfn.names.queue_of`)."""
    queue = queue_of(invocation_id)
    if queue is None:
        raise ValueError(f"malformed invocation id {invocation_id!r}")
    return queue


def _pairs(flat: Sequence[bytes]) -> dict[bytes, bytes]:
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
