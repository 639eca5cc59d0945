"""Typed wrappers around the Lua scripts: the only place Python calls them.

Each method maps one script's KEYS/ARGV contract (see the header of ``lua/<name>.lua``) onto
Python values, taking key names from :class:`streamfn.keys.Keys` and TTLs from settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from streamfn import codec
from streamfn.batching import ScriptBatcher
from streamfn.keys import GROUP, Keys
from streamfn.names import function_of
from streamfn.scripts import SCRIPTS, run_batch
from streamfn.settings import Settings


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class Enqueued:
    id: str
    status: str  # "queued" | "scheduled"
    created: bool  # False: an Idempotency-Key repeat, nothing was written
    due_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Promoted:
    promoted: int
    orphaned: int
    next_in_ms: int  # -1: no timer left


@dataclass(frozen=True, slots=True)
class Completion:
    """A finished attempt a runner reports; ``error`` is None on success."""

    function: str
    entry_id: str
    invocation_id: str
    duration_ms: int
    result: bytes = b"null"
    error: Mapping[str, str] | None = None
    mode: str = "retry"  # or "dead": permanent failure or poison, no more attempts
    max_attempts: int = 1
    backoff_base_ms: int = 1000
    backoff_cap_ms: int = 300_000
    jitter: float = 0.5
    dead_letter: bool = True


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

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = Keys(settings.namespace)
        self._enqueue = ScriptBatcher(redis, SCRIPTS.enqueue)

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
        k = self.keys
        keys = [k.stream(function), k.timers(function), k.invocation(function, invocation_id)]
        if idempotency_key is not None:
            keys.append(k.idempotency(function, idempotency_key))
        args = [
            invocation_id,
            payload,
            max(0, delay_ms),
            max(0, at_ms),
            "1" if notify else "0",
            int(self.settings.idempotency_ttl * 1000),
            GROUP,
            codec.dumps(dict(extra)) if extra else "",
        ]
        created, inv_id, status, detail = await self._enqueue.call(keys, args)
        status_s = _s(status)
        due = int(detail) if status_s == "scheduled" else None
        return Enqueued(_s(inv_id), status_s, bool(created), due)

    async def promote(self, function: str, ids: Sequence[str]) -> Promoted:
        k = self.keys
        keys = [k.timers(function), k.stream(function)]
        keys += [k.invocation(function, i) for i in ids]
        promoted, orphaned, next_in = await SCRIPTS.promote.run(self.redis, keys, [GROUP, *ids])
        return Promoted(int(promoted), int(orphaned), int(next_in))

    async def finish_many(self, consumer: str, items: Sequence[Completion]) -> list[str]:
        """Report finished attempts in one round trip (complete.lua or fail.lua per item).

        Returns per item: "succeeded", "scheduled", "dead", "failed", "stale" (lease lost:
        nothing changed) or "error: ..." when Redis refused the call.
        """
        k, s = self.keys, self.settings
        ok = [c for c in items if c.error is None]
        bad = [c for c in items if c.error is not None]
        ttl = int(s.result_ttl * 1000)
        ok_calls = [
            (
                [k.stream(c.function), k.invocation(c.function, c.invocation_id)],
                [
                    GROUP,
                    consumer,
                    c.entry_id,
                    c.invocation_id,
                    c.result,
                    ttl,
                    c.duration_ms,
                    k.done_channel,
                ],
            )
            for c in ok
        ]
        bad_calls = [
            (
                [
                    k.stream(c.function),
                    k.timers(c.function),
                    k.dead(c.function),
                    k.invocation(c.function, c.invocation_id),
                ],
                [
                    GROUP,
                    consumer,
                    c.entry_id,
                    c.invocation_id,
                    codec.dumps(c.error),
                    c.mode,
                    c.max_attempts,
                    c.backoff_base_ms,
                    c.backoff_cap_ms,
                    c.jitter,
                    "1" if c.dead_letter else "0",
                    int(s.dead_ttl * 1000),
                    ttl,
                    s.dead_maxlen,
                    k.done_channel,
                    c.duration_ms,
                ],
            )
            for c in bad
        ]
        outcomes: dict[int, str] = {}
        for c, r in zip(ok, await run_batch(self.redis, SCRIPTS.complete, ok_calls), strict=True):
            outcomes[id(c)] = (
                f"error: {r}"
                if isinstance(r, Exception)
                else ("succeeded" if int(r) == 1 else "stale")
            )
        for c, r in zip(bad, await run_batch(self.redis, SCRIPTS.fail, bad_calls), strict=True):
            outcomes[id(c)] = f"error: {r}" if isinstance(r, Exception) else _s(r[1])
        return [outcomes[id(c)] for c in items]

    async def cancel(self, invocation_id: str) -> tuple[bool, str]:
        """(cancelled?, status): status is "cancelled", "not_found" or why it was refused."""
        fn = _function(invocation_id)
        k = self.keys
        keys = [k.stream(fn), k.timers(fn), k.invocation(fn, invocation_id)]
        args = [GROUP, invocation_id, int(self.settings.result_ttl * 1000), k.done_channel]
        ok, status = await SCRIPTS.cancel.run(self.redis, keys, args)
        return bool(ok), _s(status)

    async def replay(self, invocation_id: str) -> tuple[bool, str]:
        """(replayed?, new entry id or the status that refused it / "not_found")."""
        fn = _function(invocation_id)
        k = self.keys
        keys = [k.dead(fn), k.stream(fn), k.invocation(fn, invocation_id)]
        ok, detail = await SCRIPTS.replay.run(self.redis, keys, [GROUP, invocation_id])
        return bool(ok), _s(detail)

    async def extend(self, function: str, consumer: str, entry_ids: Sequence[str]) -> list[str]:
        """Renew leases; returns the entry ids this consumer no longer owns."""
        if not entry_ids:
            return []
        lost = await SCRIPTS.extend.run(
            self.redis, [self.keys.stream(function)], [GROUP, consumer, *entry_ids]
        )
        return [_s(e) for e in lost]

    async def reclaim(
        self, function: str, consumer: str, min_idle_ms: int, cursor: str = "0-0", count: int = 100
    ) -> Reclaimed:
        raw = await SCRIPTS.reclaim.run(
            self.redis, [self.keys.stream(function)], [GROUP, consumer, min_idle_ms, cursor, count]
        )
        claimed = [
            Claimed(_s(e), _pairs(fields), int(deliveries)) for e, fields, deliveries in raw[1]
        ]
        return Reclaimed(_s(raw[0]), claimed, [_s(d) for d in raw[2]])

    async def release(
        self, function: str, consumer: str, entry_id: str, invocation_id: str
    ) -> bool:
        k = self.keys
        new = await SCRIPTS.release.run(
            self.redis,
            [k.stream(function), k.invocation(function, invocation_id)],
            [GROUP, consumer, entry_id],
        )
        return new is not None

    async def watch(self, invocation_id: str) -> str | None:
        """Ask for a PUBLISH on finish; returns the current stored status (None: unknown id)."""
        fn = _function(invocation_id)
        status = await SCRIPTS.watch.run(self.redis, [self.keys.invocation(fn, invocation_id)], [])
        return None if status is None else _s(status)


def _function(invocation_id: str) -> str:
    fn = function_of(invocation_id)
    if fn is None:
        raise ValueError(f"malformed invocation id {invocation_id!r}")
    return fn


def _pairs(flat: Sequence[bytes]) -> dict[bytes, bytes]:
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
