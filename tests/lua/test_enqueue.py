"""enqueue.lua: record a new invocation, queue it now or park it in the timer wheel."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from streamfn.keys import GROUP, Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB
from streamfn.settings import Settings
from tests.lua.helpers import FN, assert_pttl, entries, record, redis_ms

PAYLOAD = b'{"name":"ada"}'


async def test_now_queues_an_entry_and_creates_the_group_at_0(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    inv = new_invocation_id(FN)
    before = await redis_ms(redis)
    out = await rdb.enqueue(FN, inv, PAYLOAD)
    after = await redis_ms(redis)

    assert (out.id, out.status, out.created, out.due_ms) == (inv, "queued", True, None)
    [(entry_id, fields)] = await entries(redis, keys.stream(FN))
    assert fields == {"id": inv, "p": PAYLOAD.decode(), "a": "1"}
    rec = await record(redis, keys, inv)
    created = int(rec["created"])
    assert before <= created <= after
    assert rec == {
        "payload": PAYLOAD.decode(),
        "created": str(created),
        "attempt": "1",
        "notify": "0",
        "status": "queued",
        "entry": entry_id,
        "queued_at": str(created),
    }
    [group] = await redis.xinfo_groups(keys.stream(FN))
    assert group["name"] == GROUP.encode()
    assert group["last-delivered-id"] == b"0-0"
    assert group["pending"] == 0
    assert await redis.zcard(keys.timers(FN)) == 0
    assert await redis.pttl(keys.invocation(FN, inv)) == -1  # live records never expire


async def test_delay_parks_in_the_wheel_at_now_plus_delay(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    inv = new_invocation_id(FN)
    before = await redis_ms(redis)
    out = await rdb.enqueue(FN, inv, PAYLOAD, delay_ms=60_000)
    after = await redis_ms(redis)

    assert (out.status, out.created) == ("scheduled", True)
    assert out.due_ms is not None
    assert before + 60_000 <= out.due_ms <= after + 60_000
    assert await redis.zscore(keys.timers(FN), inv) == out.due_ms
    rec = await record(redis, keys, inv)
    assert rec == {
        "payload": PAYLOAD.decode(),
        "created": str(out.due_ms - 60_000),
        "attempt": "1",
        "notify": "0",
        "status": "scheduled",
        "due": str(out.due_ms),
    }
    assert not await redis.exists(keys.stream(FN))  # nothing queued: no stream yet


async def test_future_at_parks_at_exactly_that_time(redis: Redis, keys: Keys, rdb: RDB) -> None:
    inv = new_invocation_id(FN)
    at = await redis_ms(redis) + 3_600_000
    out = await rdb.enqueue(FN, inv, PAYLOAD, at_ms=at, delay_ms=5)  # at wins over delay

    assert (out.status, out.due_ms) == ("scheduled", at)
    assert await redis.zscore(keys.timers(FN), inv) == at
    assert (await record(redis, keys, inv))["due"] == str(at)


async def test_past_at_queues_now(redis: Redis, keys: Keys, rdb: RDB) -> None:
    inv = new_invocation_id(FN)
    out = await rdb.enqueue(FN, inv, PAYLOAD, at_ms=await redis_ms(redis) - 10_000)

    assert out.status == "queued"
    assert await redis.zcard(keys.timers(FN)) == 0
    [(_, fields)] = await entries(redis, keys.stream(FN))
    assert fields["id"] == inv
    assert "due" not in await record(redis, keys, inv)


async def test_notify_flag_is_stored(redis: Redis, keys: Keys, rdb: RDB) -> None:
    inv = new_invocation_id(FN)
    await rdb.enqueue(FN, inv, PAYLOAD, notify=True)
    assert (await record(redis, keys, inv))["notify"] == "1"


async def test_idempotency_key_second_call_writes_nothing(
    redis: Redis, keys: Keys, rdb: RDB, settings: Settings
) -> None:
    first, second = new_invocation_id(FN), new_invocation_id(FN)
    out1 = await rdb.enqueue(FN, first, PAYLOAD, idempotency_key="order-42")
    idem = keys.idempotency(FN, "order-42")
    assert_pttl(await redis.pttl(idem), int(settings.idempotency_ttl * 1000))
    stream_before = await entries(redis, keys.stream(FN))

    out2 = await rdb.enqueue(FN, second, b'{"other":1}', idempotency_key="order-42")

    assert (out1.id, out1.created) == (first, True)
    assert (out2.id, out2.status, out2.created) == (first, "duplicate", False)
    assert not await redis.exists(keys.invocation(FN, second))
    assert await entries(redis, keys.stream(FN)) == stream_before
    assert await redis.get(idem) == first.encode()
    assert (await record(redis, keys, first))["idem"] == idem


async def test_idempotency_key_duplicate_of_a_scheduled_call(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    first = new_invocation_id(FN)
    await rdb.enqueue(FN, first, PAYLOAD, delay_ms=60_000, idempotency_key="k")
    out = await rdb.enqueue(FN, new_invocation_id(FN), PAYLOAD, delay_ms=1, idempotency_key="k")
    assert (out.id, out.status, out.created) == (first, "duplicate", False)
    assert await redis.zrange(keys.timers(FN), 0, -1) == [first.encode()]


async def test_extra_fields_are_stored_with_x_prefix(redis: Redis, keys: Keys, rdb: RDB) -> None:
    inv = new_invocation_id(FN)
    await rdb.enqueue(FN, inv, PAYLOAD, extra={"schedule": "nightly", "source": "cron"})
    rec = await record(redis, keys, inv)
    assert rec["x_schedule"] == "nightly"
    assert rec["x_source"] == "cron"
    assert not {"schedule", "source"} & rec.keys()


async def test_existing_record_raises_and_changes_nothing(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    inv = new_invocation_id(FN)
    await rdb.enqueue(FN, inv, PAYLOAD)
    rec_before = await record(redis, keys, inv)
    with pytest.raises(ResponseError, match="invocation exists"):
        await rdb.enqueue(FN, inv, b'{"again":1}', idempotency_key="fresh")
    assert await record(redis, keys, inv) == rec_before
    assert await redis.xlen(keys.stream(FN)) == 1
    # The refused call must not burn the Idempotency-Key either.
    assert not await redis.exists(keys.idempotency(FN, "fresh"))


async def test_second_enqueue_reuses_the_existing_group(redis: Redis, keys: Keys, rdb: RDB) -> None:
    ids = [new_invocation_id(FN) for _ in range(3)]
    for i in ids:
        await rdb.enqueue(FN, i, PAYLOAD)
    assert [f["id"] for _, f in await entries(redis, keys.stream(FN))] == ids
    assert len(await redis.xinfo_groups(keys.stream(FN))) == 1
