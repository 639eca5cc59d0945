"""enqueue.lua: record a new invocation, queue it now or park it in the timer wheel."""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from streamfn.client import Client
from streamfn.errors import BacklogFull, ErrorCode
from streamfn.keys import GROUP, Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB
from streamfn.scripts import invocation_calls, run
from streamfn.settings import Settings
from tests.lua.helpers import (
    FN,
    assert_pttl,
    deliver,
    enqueue_now,
    entries,
    make_due,
    record,
    redis_ms,
    success,
)

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


# Backlog cap (STREAMFN_MAX_BACKLOG): ARGV[9], checked only for invocations due now.


@pytest.fixture
def capped(redis: Redis, settings: Settings) -> RDB:
    return RDB(redis, replace(settings, max_backlog=3))


async def test_backlog_cap_refuses_at_the_cap_and_writes_nothing(
    redis: Redis, keys: Keys, capped: RDB
) -> None:
    for _ in range(3):
        assert (await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD)).status == "queued"
    stream_before = await entries(redis, keys.stream(FN))
    refused = new_invocation_id(FN)

    with pytest.raises(BacklogFull) as info:
        await capped.enqueue(FN, refused, PAYLOAD, idempotency_key="k", notify=True)

    assert (info.value.function, info.value.backlog, info.value.cap) == (FN, 3, 3)
    assert info.value.code is ErrorCode.BACKLOG_FULL
    assert "STREAMFN_MAX_BACKLOG" in info.value.message
    assert await entries(redis, keys.stream(FN)) == stream_before
    assert not await redis.exists(keys.invocation(FN, refused))
    assert not await redis.exists(keys.idempotency(FN, "k"))  # a retry later is not a duplicate
    assert await redis.zcard(keys.timers(FN)) == 0


async def test_backlog_cap_reply_is_full_with_the_backlog(
    redis: Redis, keys: Keys, capped: RDB
) -> None:
    for _ in range(3):
        await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD)
    inv = new_invocation_id(FN)
    reply = await run(redis, invocation_calls.enqueue(keys, FN, inv, PAYLOAD, max_backlog=3))
    assert reply == [0, b"", b"full", 3]


async def test_backlog_counts_running_work_and_frees_when_it_finishes(
    redis: Redis, keys: Keys, capped: RDB
) -> None:
    await enqueue_now(capped, 3)
    (running,) = await deliver(redis, keys, "r1")  # delivered, not finished: still counted
    with pytest.raises(BacklogFull):
        await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD)

    assert await capped.finish_many("r1", [success(running)]) == ["succeeded"]

    assert (await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD)).status == "queued"
    assert await redis.xlen(keys.stream(FN)) == 3


async def test_delayed_and_at_invocations_are_neither_counted_nor_refused(
    redis: Redis, keys: Keys, capped: RDB
) -> None:
    later = await redis_ms(redis) + 3_600_000
    parked = [await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD, delay_ms=60_000)]
    parked += [await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD, at_ms=later)]
    await enqueue_now(capped, 3)  # the two parked ones do not count against the cap
    parked += [await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD, delay_ms=1_000)]

    assert [p.status for p in parked] == ["scheduled"] * 3
    assert await redis.zcard(keys.timers(FN)) == 3
    with pytest.raises(BacklogFull):  # a past `at` is due now: counted
        await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD, at_ms=later - 7_200_000)


async def test_promotion_of_accepted_work_is_never_refused(
    redis: Redis, keys: Keys, capped: RDB
) -> None:
    parked = await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD, delay_ms=60_000)
    await enqueue_now(capped, 3)
    await make_due(redis, keys, [parked.id])

    assert (await capped.promote(FN, [parked.id])).promoted == 1
    assert await redis.xlen(keys.stream(FN)) == 4  # over the cap: it was already accepted
    assert (await record(redis, keys, parked.id))["status"] == "queued"


async def test_duplicate_idempotency_key_is_answered_even_when_full(
    redis: Redis, keys: Keys, capped: RDB
) -> None:
    first = await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD, idempotency_key="k")
    await enqueue_now(capped, 2)
    again = await capped.enqueue(FN, new_invocation_id(FN), PAYLOAD, idempotency_key="k")
    assert (again.id, again.status, again.created) == (first.id, "duplicate", False)


async def test_cap_zero_means_no_cap(redis: Redis, keys: Keys, rdb: RDB) -> None:
    assert rdb.settings.max_backlog == 0
    await enqueue_now(rdb, 50)
    assert await redis.xlen(keys.stream(FN)) == 50


async def test_enqueue_many_past_the_cap_names_what_it_accepted_and_refused(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    client = Client(redis, replace(settings, max_backlog=3))
    await client.enqueue(FN, {"n": 0})

    with pytest.raises(BacklogFull) as info:
        await client.enqueue_many(FN, [{"n": i} for i in range(1, 6)])

    accepted, refused = info.value.accepted, info.value.refused
    assert (len(accepted), refused, info.value.backlog) == (2, [2, 3, 4], 3)
    assert {f["id"] for _, f in await entries(redis, keys.stream(FN))} >= set(accepted)
    assert [(await record(redis, keys, i))["payload"] for i in accepted] == ['{"n":1}', '{"n":2}']
    assert await redis.xlen(keys.stream(FN)) == 3
