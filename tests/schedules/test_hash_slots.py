"""Cluster readiness: every call of every schedule script passes keys of one hash slot.

A spy on the loader records the KEYS each call passes while the store and a firing round drive
every ``schedule_*`` script; each call's keys must share the function's slot.
"""

from __future__ import annotations

from dataclasses import fields

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from streamfn.keys import Keys
from streamfn.schedules.definition import parse_definition
from streamfn.schedules.store import ScheduleStore
from streamfn.scripts import SCRIPTS
from streamfn.timekeeping.clock import RedisClock
from streamfn.timekeeping.schedule_fires import ScheduleFirer
from tests.schedules.helpers import redis_ms
from tests.support.script_spy import Calls, record_script_calls


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Calls:
    return record_script_calls(monkeypatch)


@pytest.mark.parametrize("fn", ["echo", "report_2"])
async def test_each_schedule_script_call_uses_one_slot(
    store: ScheduleStore, redis: Redis, keys: Keys, recorded: Calls, fn: str
) -> None:
    for sid in ("a", "b.c"):
        await store.put(parse_definition({"function": fn, "cron": "* * * * * *"}, schedule_id=sid))
        at = (await redis_ms(redis)) // 1000 * 1000 - 3000
        await redis.zadd(keys.schedules(fn), {sid: at})
        await redis.hset(keys.schedule(fn, sid), "next_fire", at)
    await ScheduleFirer(redis, keys, RedisClock(redis)).round([fn])
    await store.pause("a")
    await store.resume("a")
    await store.delete("a")

    scheduled = {f.name for f in fields(SCRIPTS) if f.name.startswith("schedule_")}
    assert {name for name, _ in recorded} == scheduled
    slot = key_slot(keys.stream(fn).encode())
    for name, call_keys in recorded:
        assert call_keys, name
        assert {key_slot(k.encode()) for k in call_keys} == {slot}, (name, call_keys)
