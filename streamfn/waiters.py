"""Wait for invocations to finish without a Redis connection per waiter.

One pub/sub connection per process listens on the ``done`` channel; each waiter is a future
keyed by invocation id.  Scripts PUBLISH only for records marked ``notify`` (set at enqueue
for ``?wait=`` or by ``watch.lua``), so a busy system does not flood idle gateways.  Messages
lost while the connection was down are covered by re-reading every waiter's status after a
(re)subscribe (:class:`~streamfn.subscriber.Subscriber`) and on a slow periodic sweep.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from redis.exceptions import RedisError

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Periodic
from streamfn.names import queue_of
from streamfn.rdb import RDB
from streamfn.record import FINAL
from streamfn.subscriber import Subscriber

log = logging.getLogger("streamfn.waiters")

SWEEP_INTERVAL = 2.0


class WaiterHub:
    """Futures resolved when an invocation reaches a final status.  ``start`` before use."""

    def __init__(self, rdb: RDB) -> None:
        self._rdb = rdb
        self._redis: AnyRedis = rdb.redis
        self._keys: Keys = rdb.keys
        self._waiters: dict[str, set[asyncio.Future[None]]] = defaultdict(set)
        # Ids whose record is known to exist: only for these does a vanished record (expired)
        # end the wait.  A ?wait= caller registers before its enqueue writes the record.
        self._existing: set[str] = set()
        self._listener = Subscriber(
            self._redis,
            self._keys.done_channels(),
            self._on_message,
            self._resync,
            name="waiters",
            logger=log,
        )
        self._sweeper = Periodic("waiters-sweep", SWEEP_INTERVAL, self._sweep, logger=log)

    def listen_to(self, queues: Iterable[str]) -> None:
        """Also hear the done channels of these partition queues (:mod:`streamfn.partitions`)."""
        self._listener.set_channels(self._keys.done_channels(queues))

    @property
    def waiting(self) -> int:
        return sum(len(s) for s in self._waiters.values())

    async def start(self) -> None:
        await self._listener.start()
        await self._sweeper.start()

    async def stop(self) -> None:
        await self._listener.stop()
        await self._sweeper.stop()
        for futures in self._waiters.values():
            for fut in futures:
                fut.cancel()
        self._waiters.clear()
        self._existing.clear()

    def register(self, invocation_id: str) -> asyncio.Future[None]:
        """A future resolved when ``invocation_id`` finishes; pair with :meth:`wait_for`.

        Register before enqueueing with notify set, so even an instant completion is seen.
        """
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[invocation_id].add(fut)
        return fut

    def unregister(self, invocation_id: str, fut: asyncio.Future[None]) -> None:
        """Forget a registered future that will never be waited on (e.g. its enqueue failed)."""
        self._discard(invocation_id, fut)

    async def wait_for(self, invocation_id: str, fut: asyncio.Future[None], timeout: float) -> bool:
        """Wait on a registered future up to ``timeout`` s; True once final, False on timeout.

        Call it only once the record exists (after the enqueue returned).
        """
        self._existing.add(invocation_id)
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._discard(invocation_id, fut)

    async def wait(self, invocation_id: str, timeout: float) -> bool:
        """Wait for an existing invocation; True once final, False on timeout.

        Raises LookupError for an unknown id.
        """
        fut = self.register(invocation_id)
        try:
            status = await self._rdb.watch(invocation_id)
        except BaseException:
            self._discard(invocation_id, fut)
            raise
        if status is None:
            self._discard(invocation_id, fut)
            raise LookupError(invocation_id)
        if status in FINAL:
            self._discard(invocation_id, fut)
            return True
        return await self.wait_for(invocation_id, fut, timeout)

    def wake_all(self) -> None:
        """Resolve every waiter now, final or not (a shutting-down server answers them)."""
        for invocation_id in list(self._waiters):
            self._resolve(invocation_id)

    def _discard(self, invocation_id: str, fut: asyncio.Future[None]) -> None:
        futures = self._waiters.get(invocation_id)
        if futures is not None:
            futures.discard(fut)
            if not futures:
                del self._waiters[invocation_id]
                self._existing.discard(invocation_id)

    def _resolve(self, invocation_id: str) -> None:
        for fut in self._waiters.get(invocation_id, ()):
            if not fut.done():
                fut.set_result(None)

    def _on_message(self, data: Any) -> None:
        self._resolve(data.decode() if isinstance(data, bytes) else str(data))

    async def _sweep(self) -> None:
        # Quiet: the listener reports a Redis outage already, and resyncs when it is over.
        try:
            await self._resync()
        except (RedisError, OSError):
            return

    async def _resync(self) -> None:
        """Re-read the status of everyone waiting; resolves what finished meanwhile."""
        ids = [i for i in list(self._waiters) if queue_of(i) is not None]
        if not ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for i in ids:
                queue = queue_of(i)
                assert queue is not None
                pipe.hget(self._keys.invocation(queue, i), "status")
            statuses = await pipe.execute()
        for i, status in zip(ids, statuses, strict=True):
            if status is None:
                if i in self._existing:
                    self._resolve(i)
            elif status.decode() in FINAL:
                self._resolve(i)
