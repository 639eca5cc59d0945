"""complete.lua: store a success, fenced to the consumer that holds the delivery."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import GROUP, Keys
from streamfn.rdb import RDB, Completion
from streamfn.scripts import outcome_calls, run
from streamfn.settings import Settings
from tests.lua.helpers import (
    FN,
    assert_pttl,
    deliver,
    enqueue_now,
    listening,
    pending,
    record,
    redis_ms,
    run_one,
    success,
)


async def test_success_stores_the_result_and_removes_the_entry(
    redis: Redis, keys: Keys, rdb: RDB, settings: Settings
) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    rec_before = await record(redis, keys, d.invocation_id)

    before = await redis_ms(redis)
    assert await rdb.finish_many("r1", [success(d, b'{"sum":3}', 42)]) == ["succeeded"]
    after = await redis_ms(redis)

    rec = await record(redis, keys, d.invocation_id)
    assert before <= int(rec["finished"]) <= after
    assert rec == {
        **rec_before,
        "status": "succeeded",
        "result": '{"sum":3}',
        "finished": rec["finished"],
        "duration_ms": "42",
    }
    assert_pttl(
        await redis.pttl(keys.invocation(FN, d.invocation_id)), int(settings.result_ttl * 1000)
    )
    assert await redis.xlen(keys.stream(FN)) == 0
    assert await pending(redis, keys.stream(FN)) == []


async def test_success_after_a_retry_clears_the_old_error(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    await redis.hset(keys.invocation(FN, d.invocation_id), "error", '{"type":"X"}')
    assert await rdb.finish_many("r1", [success(d)]) == ["succeeded"]
    assert "error" not in await record(redis, keys, d.invocation_id)


async def test_wrong_consumer_is_refused_and_nothing_changes(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    rec_before = await record(redis, keys, d.invocation_id)
    pel_before = await pending(redis, keys.stream(FN))

    assert await rdb.finish_many("r2", [success(d)]) == ["stale"]

    assert await record(redis, keys, d.invocation_id) == rec_before
    assert await redis.pttl(keys.invocation(FN, d.invocation_id)) == -1
    assert await redis.xlen(keys.stream(FN)) == 1
    assert [(p["entry"], p["consumer"]) for p in await pending(redis, keys.stream(FN))] == [
        (p["entry"], p["consumer"]) for p in pel_before
    ]


async def test_old_owner_is_refused_after_another_consumer_claims(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    await redis.xclaim(keys.stream(FN), GROUP, "r2", 0, [d.entry_id])

    assert await rdb.finish_many("r1", [success(d, b'"old"')]) == ["stale"]
    assert (await record(redis, keys, d.invocation_id))["status"] == "queued"

    assert await rdb.finish_many("r2", [success(d, b'"new"')]) == ["succeeded"]
    assert (await record(redis, keys, d.invocation_id))["result"] == '"new"'


async def test_second_complete_is_stale(redis: Redis, keys: Keys, rdb: RDB) -> None:
    d = await run_one(redis, keys, rdb, "r1")
    assert await rdb.finish_many("r1", [success(d, b"1")]) == ["succeeded"]
    rec = await record(redis, keys, d.invocation_id)
    assert await rdb.finish_many("r1", [success(d, b"2")]) == ["stale"]
    assert await record(redis, keys, d.invocation_id) == rec


async def test_undelivered_entry_is_stale(redis: Redis, keys: Keys, rdb: RDB) -> None:
    [inv] = await enqueue_now(rdb)
    entry = (await record(redis, keys, inv))["entry"]
    call = outcome_calls.complete(keys, FN, "r1", 60_000, [Completion(FN, entry, inv, 1, b"1")])
    out = await run(redis, call)
    assert out == [0]
    assert (await record(redis, keys, inv))["status"] == "queued"


async def test_publishes_only_when_notify_is_set(redis: Redis, keys: Keys, rdb: RDB) -> None:
    [quiet] = await enqueue_now(rdb)
    [loud] = await enqueue_now(rdb, notify=True)
    d_quiet, d_loud = await deliver(redis, keys, "r1", count=2)
    assert (d_quiet.invocation_id, d_loud.invocation_id) == (quiet, loud)

    async with listening(redis, keys.done_channel(FN)) as channel:
        assert await rdb.finish_many("r1", [success(d_quiet)]) == ["succeeded"]
        assert await channel.drain() == []
        assert await rdb.finish_many("r1", [success(d_loud)]) == ["succeeded"]
        assert await channel.drain() == [loud.encode()]


async def test_finish_many_reports_each_item(redis: Redis, keys: Keys, rdb: RDB) -> None:
    await enqueue_now(rdb, 3)
    a, b, c = await deliver(redis, keys, "r1", count=3)
    await redis.xclaim(keys.stream(FN), GROUP, "r2", 0, [b.entry_id])
    assert await rdb.finish_many("r1", [success(a), success(b), success(c)]) == [
        "succeeded",
        "stale",
        "succeeded",
    ]
    assert [p["entry"] for p in await pending(redis, keys.stream(FN))] == [b.entry_id]


async def test_one_call_completes_a_batch_item_by_item(redis: Redis, keys: Keys, rdb: RDB) -> None:
    for _ in range(3):
        await enqueue_now(rdb)
    a, b, c = await deliver(redis, keys, "r1", count=3)
    await redis.xclaim(keys.stream(FN), GROUP, "r2", 0, [b.entry_id])  # b's lease moved on
    out = await rdb.finish_many("r1", [success(a, b"1"), success(b, b"2"), success(c, b"3")])
    assert out == ["succeeded", "stale", "succeeded"]
    assert (await record(redis, keys, b.invocation_id))["status"] == "queued"
    assert (await record(redis, keys, c.invocation_id))["result"] == "3"
    assert await redis.xlen(keys.stream(FN)) == 1  # only b's entry is left


async def test_batch_order_and_id_width_do_not_matter(redis: Redis, keys: Keys) -> None:
    """Ownership is read once for the batch's id range: ids compare as numbers, in any order."""
    stream = keys.stream(FN)
    await redis.xgroup_create(stream, GROUP, "0", mkstream=True)
    for entry in ("9-5", "10-0", "10-1"):
        await redis.xadd(stream, {"id": entry}, id=entry)
    await redis.xreadgroup(GROUP, "r1", {stream: ">"})
    await redis.xclaim(stream, GROUP, "r2", 0, ["10-0"])
    items = [("10-1", "a"), ("9-5", "b"), ("10-0", "c")]
    done = [Completion(FN, entry, f"{FN}.{name}", 1, b"1") for entry, name in items]
    out = await run(redis, outcome_calls.complete(keys, FN, "r1", 60_000, done))
    assert out == [1, 1, 0]  # 10-0 belongs to r2 now
    assert [p["entry"] for p in await pending(redis, stream)] == ["10-0"]


async def test_an_invalid_entry_id_is_refused_before_any_write(redis: Redis, keys: Keys) -> None:
    stream = keys.stream(FN)
    await redis.xgroup_create(stream, GROUP, "0", mkstream=True)
    added: bytes = await redis.xadd(stream, {"id": "x"})  # type: ignore[assignment]
    entry = added.decode()
    await redis.xreadgroup(GROUP, "r1", {stream: ">"})
    good, bad = keys.invocation(FN, f"{FN}.good"), keys.invocation(FN, f"{FN}.bad")
    done = [Completion(FN, entry, f"{FN}.good", 1, b"1")]
    done.append(Completion(FN, "not-an-id", f"{FN}.bad", 1, b"1"))
    try:
        await run(redis, outcome_calls.complete(keys, FN, "r1", 60_000, done))
    except Exception as exc:
        assert "invalid stream entry id" in str(exc)
    else:
        raise AssertionError("an invalid entry id must be refused")
    assert await redis.exists(good, bad) == 0
    assert len(await pending(redis, stream)) == 1
