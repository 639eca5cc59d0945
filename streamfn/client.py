"""The Python client: enqueue, inspect, wait for, cancel and replay invocations.

The gateway's handlers call this; so do the CLI and the benchmarks.  It talks to Redis directly
(no HTTP), so Python producers can enqueue in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from streamfn import codec, partitions
from streamfn.connection import AnyRedis
from streamfn.durable import Durability
from streamfn.errors import BacklogFull
from streamfn.keys import Keys
from streamfn.layouts import read_layouts
from streamfn.names import is_function_name, new_invocation_id, queue_of
from streamfn.rdb import RDB, Enqueued
from streamfn.record import Invocation, load_invocation
from streamfn.registry import read_catalog
from streamfn.scripts import Reply, run_batch
from streamfn.scripts.invocation_calls import enqueue
from streamfn.settings import Settings
from streamfn.waiters import WaiterHub


@dataclass(frozen=True, slots=True)
class DeadLetter:
    entry_id: str
    invocation_id: str
    payload: Any
    error: Any
    attempts: int
    at_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry_id,
            "id": self.invocation_id,
            "payload": self.payload,
            "error": self.error,
            "attempts": self.attempts,
            "dead_at": self.at_ms,
        }


class Client:
    """One per process.  ``start()`` enables waiting (a pub/sub listener); ``close()`` ends it."""

    def __init__(self, redis: AnyRedis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = Keys.of(settings)
        self.rdb = RDB(redis, settings)
        self.waiters = WaiterHub(self.rdb)
        self.partitions: dict[str, int] = {}
        """``PARTITIONS`` per deployed function, as runners reported it (absent: 1).  The
        gateway's catalog keeps it current; other users call :meth:`refresh_partitions`."""
        self._turns = partitions.RoundRobin()

    async def refresh_partitions(self) -> dict[str, int]:
        """Learn every deployed function's ``PARTITIONS`` (:mod:`streamfn.deployed`)."""
        catalog = await read_catalog(self.redis, self.keys, self.settings.deployed_retention)
        self.set_partitions(catalog.functions)
        return self.partitions

    def set_partitions(self, functions: dict[str, dict[str, Any]]) -> None:
        """Take ``PARTITIONS`` from catalog entries (``{"partitions": P, ...}`` per function)."""
        self.partitions = {
            name: int(entry.get("partitions", 1))
            for name, entry in functions.items()
            if int(entry.get("partitions", 1)) > 1
        }
        self.waiters.listen_to(q for fn in self.partitions for q in self.queues(fn)[1:])

    def queues(self, function: str) -> list[str]:
        """The queues new invocations of ``function`` go to, home first."""
        return partitions.queues(function, self.partitions.get(function, 1))

    def new_id(self, function: str, idempotency_key: str | None = None) -> str:
        """A fresh id for an invocation of ``function``, naming the queue it goes to: the
        Idempotency-Key's queue, else the next in turn (:mod:`streamfn.partitions`)."""
        p = self.partitions.get(function, 1)
        if idempotency_key is not None:
            _, byte = partitions.queue_for_key(function, p, idempotency_key)
        else:
            _, byte = self._turns.pick(function, p)
        return new_invocation_id(function, byte)

    async def start(self) -> None:
        await self.waiters.start()

    async def close(self) -> None:
        await self.waiters.stop()

    async def enqueue(
        self,
        function: str,
        payload: Any = None,
        *,
        delay: float = 0.0,
        at_ms: int = 0,
        idempotency_key: str | None = None,
        notify: bool = False,
        invocation_id: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Enqueued:
        """Queue one invocation now, after ``delay`` seconds, or at ``at_ms`` (epoch ms).

        ``payload`` is any JSON value, or ``bytes`` already holding JSON.  Raises
        :class:`BacklogFull` (nothing written) when it is due now and the function already
        has ``STREAMFN_MAX_BACKLOG`` invocations queued or running, and
        :class:`~streamfn.errors.ReplicationUnconfirmed` when ``STREAMFN_DURABLE_REPLICAS``
        replicas did not confirm it in time.
        """
        _check_function(function)
        body = payload if isinstance(payload, bytes) else codec.dumps(payload)
        for attempt in range(ID_ATTEMPTS):
            try:
                return await self.rdb.enqueue(
                    function,
                    invocation_id or self.new_id(function, idempotency_key),
                    body,
                    delay_ms=int(delay * 1000),
                    at_ms=at_ms,
                    notify=notify,
                    idempotency_key=idempotency_key,
                    extra=extra,
                )
            except ResponseError as exc:
                # A fresh id met an existing record (odds 2**-40): draw another.  A caller's
                # own id is the caller's to replace.
                if invocation_id is not None or not is_id_taken(exc) or attempt == ID_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def enqueue_many(self, function: str, payloads: Iterable[Any]) -> list[str]:
        """Queue many invocations of one function now, in one pipelined round trip.

        Past ``STREAMFN_MAX_BACKLOG`` it raises :class:`BacklogFull` once the whole batch has
        run: ``accepted`` holds the ids it did queue (they will run), ``refused`` the positions
        in ``payloads`` of those it did not (nothing written for them: resubmit them later).
        With ``STREAMFN_DURABLE_REPLICAS`` set and too few replicas confirming the batch in
        time, it raises :class:`~streamfn.errors.ReplicationUnconfirmed` (the invocations
        were written to the master; a failover could lose them).
        """
        _check_function(function)
        k = self.keys
        cap = self.settings.max_backlog
        queues = self.queues(function)
        share = -(-cap // len(queues)) if cap > 0 else 0  # each queue admits its share
        ids: list[str] = []
        calls = []
        for payload in payloads:
            inv = self.new_id(function)
            ids.append(inv)
            body = payload if isinstance(payload, bytes) else codec.dumps(payload)
            queue = queue_of(inv) or function
            calls.append(enqueue(k, queue, inv, body, max_backlog=share))
        results = await run_batch(self.redis, calls, durability=Durability.of(self.settings))
        for r in results:
            if isinstance(r, Exception):
                raise r
        full = Reply.FULL.encode()
        refused = [i for i, r in enumerate(results) if r[2] in (full, Reply.FULL)]
        if refused:
            accepted = [inv for inv, r in zip(ids, results, strict=True) if r[0] == 1]
            backlog = int(results[refused[0]][3])
            raise BacklogFull(function, backlog, cap, accepted=accepted, refused=refused)
        return ids

    async def get(self, invocation_id: str) -> Invocation | None:
        return await load_invocation(self.redis, self.keys, invocation_id)

    async def wait(self, invocation_id: str, timeout: float) -> Invocation | None:
        """Wait up to ``timeout`` s for a final status; returns the invocation as it then is."""
        try:
            await self.waiters.wait(invocation_id, timeout)
        except LookupError:
            return None
        return await self.get(invocation_id)

    async def cancel(self, invocation_id: str) -> tuple[bool, str]:
        return await self.rdb.cancel(invocation_id)

    async def stop(self, invocation_id: str) -> tuple[bool, str]:
        """Cancel whatever the state: (accepted?, "cancelled" | "cancelling" | refusal).

        A scheduled or queued invocation is cancelled at once; a running one is asked to stop
        ("cancelling": its runner stops it and records "cancelled").
        """
        for _ in range(3):  # a hand-back can move it between queued and running meanwhile
            done, status = await self.rdb.cancel(invocation_id)
            if done or status != Reply.RUNNING:
                return done, status
            requested, status = await self.rdb.cancel_running(invocation_id)
            if requested or status != Reply.QUEUED:
                return requested, status
        return False, Reply.RUNNING

    async def replay(self, invocation_id: str) -> tuple[bool, str]:
        return await self.rdb.replay(invocation_id)

    async def discard(self, invocation_id: str) -> tuple[bool, str]:
        """Delete a dead invocation (its dead letter and record): (discarded?, "dead" or
        the status that refused it / "not_found")."""
        return await self.rdb.discard(invocation_id)

    async def dead_letters(self, function: str, count: int = 100) -> list[DeadLetter]:
        """The newest ``count`` dead letters of ``function``, newest first, from every queue
        of every partition layout it has had (:mod:`streamfn.layouts`)."""
        _check_function(function)
        layouts = (await read_layouts(self.redis, self.keys)).get(function, {})
        layouts.setdefault(self.partitions.get(function, 1), 0)
        queues = sorted({q for p in layouts for q in partitions.queues(function, p)})
        letters: list[DeadLetter] = []
        for queue in queues:  # one read each: on a cluster the queues are in different slots
            rows: Sequence[tuple[bytes, dict[bytes, bytes]]] = await self.redis.xrevrange(  # type: ignore[assignment]
                self.keys.dead(queue), count=count
            )
            letters += [_dead_letter(entry, f) for entry, f in rows]
        letters.sort(key=lambda d: (d.at_ms, d.entry_id), reverse=True)
        return letters[:count]


ID_ATTEMPTS = 3


def is_id_taken(exc: ResponseError) -> bool:
    """enqueue.lua's refusal of an id whose record exists."""
    return "invocation exists" in str(exc)


def _dead_letter(entry: bytes, f: dict[bytes, bytes]) -> DeadLetter:
    return DeadLetter(
        entry_id=entry.decode(),
        invocation_id=f[b"id"].decode(),
        payload=codec.loads(f[b"p"]) if f.get(b"p") else None,
        error=codec.loads(f[b"error"]) if f.get(b"error") else None,
        attempts=int(f.get(b"attempts", b"0")),
        at_ms=int(f.get(b"at", b"0")),
    )


def _check_function(function: str) -> None:
    if not is_function_name(function):
        raise ValueError(f"invalid function name {function!r}")
