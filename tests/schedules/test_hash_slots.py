"""Cluster readiness: every call of every schedule script passes keys of one hash slot.

A spy on the loader records the KEYS each call passes while the store and a scheduler drive
every ``schedule_*`` script; each call's keys must share the function's slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.crc import key_slot

from streamfn.keys import Keys
from streamfn.schedules.definition import parse_definition
from streamfn.schedules.scheduler import Scheduler
from streamfn.schedules.store import ScheduleStore
from streamfn.scripts import SCRIPTS, Script
from tests.schedules.helpers import redis_ms

Calls = list[tuple[str, list[str]]]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls: Calls = []
    run, queue = Script.run, Script.queue

    async def spy_run(self: Script, redis: Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        calls.append((self.name, list(keys)))
        return await run(self, redis, keys, args)

    def spy_queue(self: Script, pipe: Pipeline, keys: Sequence[str], args: Sequence[Any]) -> None:
        calls.append((self.name, list(keys)))
        queue(self, pipe, keys, args)

    monkeypatch.setattr(Script, "run", spy_run)
    monkeypatch.setattr(Script, "queue", spy_queue)
    return calls


@pytest.mark.parametrize("fn", ["echo", "report_2"])
async def test_each_schedule_script_call_uses_one_slot(
    store: ScheduleStore, redis: Redis, keys: Keys, recorded: Calls, fn: str
) -> None:
    for sid in ("a", "b.c"):
        await store.put(parse_definition({"function": fn, "cron": "* * * * * *"}, schedule_id=sid))
        at = (await redis_ms(redis)) // 1000 * 1000 - 3000
        await redis.zadd(keys.schedules(fn), {sid: at})
        await redis.hset(keys.schedule(fn, sid), "next_fire", at)
    await Scheduler(redis, keys, lambda: [fn]).tick()
    await store.pause("a")
    await store.resume("a")
    await store.delete("a")

    scheduled = {f.name for f in fields(SCRIPTS) if f.name.startswith("schedule_")}
    assert {name for name, _ in recorded} == scheduled
    slot = key_slot(keys.stream(fn).encode())
    for name, call_keys in recorded:
        assert call_keys, name
        assert {key_slot(k.encode()) for k in call_keys} == {slot}, (name, call_keys)
