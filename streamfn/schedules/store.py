"""Schedule CRUD: create or replace, read, list, delete, pause and resume.

A schedule lives in its function's hash tag (``{ns:fn}:sched:<id>`` and the ``schedules``
zset); the index ``ns:schedules`` (id -> function) finds it by id.  The index sits in no tag,
so it is kept by plain commands around the scripts: written before and again after a create
(the second write heals a concurrent stale-entry cleanup), removed after a delete.  A lookup
that finds an index entry without a schedule removes it.

Next fires are computed here in Python from Redis ``TIME`` (cron with time zones cannot be done
in Lua); the scripts refuse a next fire that is not after the last fire, and the store then
recomputes, so an update racing a scheduler never fires a planned time twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.redis_time import redis_now_ms
from streamfn.schedules.definition import ScheduleDef
from streamfn.schedules.ops import ScheduleRDB
from streamfn.schedules.schedule import Schedule, schedule_from_hash, spec_from_hash
from streamfn.schedules.spec import next_fire
from streamfn.scripts import Reply

_ATTEMPTS = 5  # compare-and-set retries; each loses only to a concurrent fire or update


def _str(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class ScheduleStore:
    """Schedules of one namespace.  Safe to share across tasks."""

    def __init__(self, redis: AnyRedis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self.rdb = ScheduleRDB(redis, keys)

    async def now_ms(self) -> int:
        """Redis ``TIME`` in epoch ms: the only clock schedules use."""
        return await redis_now_ms(self.redis)

    async def function_of(self, schedule_id: str) -> str | None:
        raw: Any = await self.redis.hget(self.keys.schedule_index, schedule_id)
        return None if raw is None else _str(raw)

    async def _raw(self, function: str, schedule_id: str) -> dict[bytes, bytes]:
        key = self.keys.schedule(function, schedule_id)
        raw: Any = await self.redis.hgetall(key)
        return cast(dict[bytes, bytes], raw)

    async def put(self, definition: ScheduleDef) -> tuple[Schedule, str]:
        """Create or replace ``definition`` (by id); returns it and "created", "updated" or
        "unchanged".  Moving an id to another function deletes it from the old one."""
        d = definition
        index = self.keys.schedule_index
        old_function = await self.function_of(d.id)
        await self.redis.hset(index, d.id, d.function)
        status = await self._upsert(d)
        await self.redis.hset(index, d.id, d.function)
        if old_function is not None and old_function != d.function:
            await self.rdb.delete(old_function, d.id)
        found = await self.get(d.id)
        if found is None:  # deleted concurrently, between our write and this read
            raise LookupError(f"schedule {d.id!r} was deleted while it was being written")
        return found, status

    async def _upsert(self, d: ScheduleDef) -> str:
        for _ in range(_ATTEMPTS):
            now = await self.now_ms()
            raw = await self._raw(d.function, d.id)
            fired = int(raw.get(b"fire_count", b"0") or 0)
            last = int(raw[b"last_fire"]) if raw.get(b"last_fire") else None
            anchor = d.spec.start_at
            if anchor is None:
                anchor = int(raw[b"anchor"]) if raw.get(b"anchor") else now
            spec = replace(d.spec, anchor_ms=anchor)
            after = now if last is None else max(now, last)
            status, _ = await self.rdb.upsert(replace(d, spec=spec), next_fire(spec, after, fired))
            if status != Reply.STALE:
                return status
        raise RuntimeError(f"schedule {d.id!r} kept changing while being written; try again")

    async def get(self, schedule_id: str) -> Schedule | None:
        function = await self.function_of(schedule_id)
        if function is None:
            return None
        raw = await self._raw(function, schedule_id)
        if not raw:
            await self.redis.hdel(self.keys.schedule_index, schedule_id)
            return None
        return schedule_from_hash(schedule_id, raw)

    async def list_schedules(self, function: str | None = None) -> list[Schedule]:
        """Every schedule (or every schedule of ``function``), ordered by id."""
        if function is not None:
            members: Any = await self.redis.zrange(self.keys.schedules(function), 0, -1)
            pairs = [(_str(m), function) for m in members]
        else:
            index: Any = await self.redis.hgetall(self.keys.schedule_index)
            pairs = [(_str(sid), _str(fn)) for sid, fn in index.items()]
        pairs.sort()
        async with self.redis.pipeline(transaction=False) as pipe:
            for sid, fn in pairs:
                pipe.hgetall(self.keys.schedule(fn, sid))
            raws: list[Any] = await pipe.execute()
        return [
            schedule_from_hash(sid, raw) for (sid, _), raw in zip(pairs, raws, strict=True) if raw
        ]

    async def functions(self) -> set[str]:
        """Functions that have at least one schedule (for a scheduler's work list)."""
        values: Any = await self.redis.hvals(self.keys.schedule_index)
        return {_str(v) for v in values}

    async def delete(self, schedule_id: str) -> bool:
        """Remove a schedule; False when there was none.  Its past fires are untouched."""
        function = await self.function_of(schedule_id)
        if function is None:
            return False
        deleted = await self.rdb.delete(function, schedule_id)
        await self.redis.hdel(self.keys.schedule_index, schedule_id)
        return deleted

    async def pause(self, schedule_id: str) -> Schedule | None:
        """Stop firing (kept, listed, resumable); None when there is no such schedule."""
        function = await self.function_of(schedule_id)
        if function is None or not await self.rdb.pause(function, schedule_id):
            return None
        return await self.get(schedule_id)

    async def resume(self, schedule_id: str) -> Schedule | None:
        """Fire again from the first planned time after now: times missed while paused are
        skipped, whatever the misfire policy.  None when there is no such schedule."""
        function = await self.function_of(schedule_id)
        if function is None:
            return None
        for _ in range(_ATTEMPTS):
            now = await self.now_ms()
            raw = await self._raw(function, schedule_id)
            if not raw:
                return None
            state = schedule_from_hash(schedule_id, raw)
            after = max(now, state.last_fire_ms or now)
            spec = spec_from_hash(raw)
            upcoming = next_fire(spec, after, state.fire_count)
            status = await self.rdb.resume(function, schedule_id, state.rev, upcoming)
            if status == Reply.MISSING:
                return None
            if status != Reply.STALE:
                return await self.get(schedule_id)
        raise RuntimeError(f"schedule {schedule_id!r} kept changing while resuming; try again")
