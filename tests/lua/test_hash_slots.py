"""Cluster readiness: every call of every script passes keys of one hash slot.

A spy on the loader records the KEYS each :class:`streamfn.rdb.RDB` method passes while a
scenario drives every script once; each call's keys must share the function's slot.
"""

from __future__ import annotations

from dataclasses import fields

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB, Completion
from streamfn.scripts import SCRIPTS
from tests.lua.helpers import FN, deliver, enqueue_now, make_due, success
from tests.support.script_spy import Calls, record_script_calls


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Calls:
    return record_script_calls(monkeypatch)


async def drive_every_script(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await rdb.enqueue(FN, new_invocation_id(FN), b"1", idempotency_key="k", notify=True)
    later = new_invocation_id(FN)
    await rdb.enqueue(FN, later, b"1", delay_ms=60_000, extra={"s": "x"})
    await make_due(redis, keys, [later])
    await rdb.promote(FN, [later])
    await enqueue_now(rdb, 2)
    a, b, c, d = await deliver(redis, keys, "r1", count=4)
    await rdb.extend(FN, "r1", [a.entry_id, b.entry_id])
    await rdb.reclaim(FN, "r2", 0)
    await rdb.reap_consumers(FN, "r2", 0)
    await rdb.release(FN, "r2", a.entry_id, a.invocation_id)
    dead = Completion(FN, c.entry_id, c.invocation_id, 1, error={"type": "E"}, mode="dead")
    await rdb.finish_many("r2", [success(b), dead])
    await rdb.replay(c.invocation_id)
    await rdb.discard(c.invocation_id)  # refused (queued again): the keys are what is checked
    await rdb.watch(d.invocation_id)
    await rdb.cancel(a.invocation_id)
    await rdb.cancel_running(d.invocation_id)
    stop = Completion(FN, d.entry_id, d.invocation_id, 1, error={"type": "C"}, mode="cancel")
    await rdb.finish_many("r2", [stop])
    await rdb.reindex([FN])


async def test_each_call_uses_one_slot(redis: Redis, keys: Keys, rdb: RDB, recorded: Calls) -> None:
    await drive_every_script(redis, keys, rdb)

    core = {f.name for f in fields(SCRIPTS) if not f.name.startswith("schedule_")}
    assert {name for name, _ in recorded} == core  # schedule_* scripts: tests/schedules
    slot = key_slot(keys.stream(FN).encode())
    for name, call_keys in recorded:
        assert call_keys, name
        slots = {key_slot(k.encode()) for k in call_keys}
        assert slots == {slot}, (name, call_keys)
