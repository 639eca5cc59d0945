"""reap_consumers.lua: delete idle consumers holding nothing; never one with pending work."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from streamfn.connection import make_redis
from streamfn.keys import GROUP, Keys
from streamfn.rdb import RDB
from streamfn.scripts import SCRIPTS, lease_calls, run
from streamfn.settings import Settings
from tests.lua.helpers import FN, deliver, enqueue_now, pending, set_idle
from tests.support.procs import wait_until

IDLE_MS = 150  # the limit the tests use: waited for on Redis's own idle counter


async def consumers(redis: Redis, stream: str) -> dict[str, dict[str, int]]:
    """XINFO CONSUMERS by name: pending entries and idle ms."""
    rows: Any = await redis.xinfo_consumers(stream, GROUP)
    return {
        (r["name"].decode() if isinstance(r["name"], bytes) else r["name"]): {
            "pending": int(r["pending"]),
            "idle": int(r["idle"]),
        }
        for r in rows
    }


async def create(redis: Redis, stream: str, *names: str) -> None:
    for name in names:
        await redis.xgroup_createconsumer(stream, GROUP, name)


async def idle_past(redis: Redis, stream: str, names: set[str], ms: int = IDLE_MS) -> None:
    """Wait until every one of ``names`` has been idle longer than ``ms`` (Redis's count)."""

    async def idle() -> bool:
        seen = await consumers(redis, stream)
        return all(n in seen and seen[n]["idle"] > ms for n in names)

    await wait_until(idle, 10, interval=0.02, what=f"{sorted(names)} idle > {ms} ms")


async def test_idle_empty_consumers_go_while_holders_and_own_stay(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    stream = keys.stream(FN)
    await enqueue_now(rdb, 2)
    held = await deliver(redis, keys, "dead-holding", count=2)
    await create(redis, stream, "dead-empty-1", "dead-empty-2", "me")
    await idle_past(redis, stream, {"dead-holding", "dead-empty-1", "dead-empty-2", "me"})

    assert await rdb.reap_consumers(FN, "me", IDLE_MS) == 2

    left = await consumers(redis, stream)
    assert set(left) == {"dead-holding", "me"}
    assert left["dead-holding"]["pending"] == 2
    # Its work is still in the PEL under its name, so a live runner can take it over.
    for d in held:
        await set_idle(redis, stream, "dead-holding", d.entry_id, 60_000)
    out = await rdb.reclaim(FN, "me", 30_000)
    assert [c.entry_id for c in out.claimed] == [d.entry_id for d in held]
    assert {p["consumer"] for p in await pending(redis, stream)} == {"me"}

    # Once reclaimed it holds nothing: deleted as soon as it is idle past the limit again
    # (set_idle's XCLAIM above counted as an action of "dead-holding").
    await idle_past(redis, stream, {"dead-holding"})
    assert await rdb.reap_consumers(FN, "me", IDLE_MS) == 1
    assert set(await consumers(redis, stream)) == {"me"}


async def test_consumers_idle_less_than_the_limit_stay(redis: Redis, keys: Keys, rdb: RDB) -> None:
    stream = keys.stream(FN)
    await enqueue_now(rdb)
    await create(redis, stream, "old")
    await idle_past(redis, stream, {"old"})
    await create(redis, stream, "fresh")

    assert await rdb.reap_consumers(FN, "me", IDLE_MS) == 1
    assert set(await consumers(redis, stream)) == {"fresh"}
    # A limit above everyone's idle time deletes nothing.
    assert await rdb.reap_consumers(FN, "me", 3_600_000) == 0
    assert set(await consumers(redis, stream)) == {"fresh"}


async def test_deletions_per_call_are_capped(redis: Redis, keys: Keys, rdb: RDB) -> None:
    stream = keys.stream(FN)
    await enqueue_now(rdb)
    names = {f"dead-{i}" for i in range(5)}
    await create(redis, stream, *names)
    await idle_past(redis, stream, names)

    assert [await rdb.reap_consumers(FN, "me", IDLE_MS, cap=2) for _ in range(4)] == [2, 2, 1, 0]
    assert await consumers(redis, stream) == {}


async def test_missing_stream_or_group_deletes_nothing(redis: Redis, keys: Keys, rdb: RDB) -> None:
    stream = keys.stream(FN)
    assert await rdb.reap_consumers(FN, "me", 0) == 0
    assert await redis.exists(stream) == 0, "the script never creates the stream"

    await redis.xadd(stream, {"id": "x"})  # a stream whose group is gone (Redis lost it)
    assert await rdb.reap_consumers(FN, "me", 0) == 0
    assert await redis.xinfo_groups(stream) == []


async def test_bad_arguments_and_wrong_type_are_errors(redis: Redis, keys: Keys) -> None:
    stream = keys.stream(FN)
    with pytest.raises(ResponseError, match="cap must be"):
        await run(redis, lease_calls.reap_consumers(keys, FN, "me", 0, 0))
    with pytest.raises(ResponseError, match="idle limit must be"):  # a call no encoder builds
        await SCRIPTS.reap_consumers.run(redis, [stream], [GROUP, "me", "soon", 1])
    await redis.set(stream, "not a stream")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await run(redis, lease_calls.reap_consumers(keys, FN, "me", 0, 1))


async def test_a_reaped_live_reader_still_gets_its_entry(
    redis: Redis, keys: Keys, rdb: RDB, settings: Settings
) -> None:
    """Deleting a live consumer that holds nothing is harmless: its next delivery recreates it.

    On Redis 7.0 a read that finds nothing does not reset a consumer's idle time, so a live
    runner on a quiet stream does get reaped; here it is even blocked in XREADGROUP meanwhile.
    """
    stream = keys.stream(FN)
    [inv] = await enqueue_now(rdb)
    [first] = await deliver(redis, keys, "live")
    await redis.xack(stream, GROUP, first.entry_id)
    await redis.xdel(stream, first.entry_id)
    reader = make_redis(settings, socket_timeout=30)

    async def read_one() -> Any:
        return await reader.xreadgroup(GROUP, "live", {stream: ">"}, count=1, block=10_000)

    read = asyncio.create_task(read_one())
    try:

        async def blocked() -> bool:
            clients: Any = await redis.client_list()
            return any(c["cmd"] == "xreadgroup" and "b" in c["flags"] for c in clients)

        await wait_until(blocked, 10, what="the reader to block in XREADGROUP")
        await idle_past(redis, stream, {"live"})
        assert await rdb.reap_consumers(FN, "me", IDLE_MS) == 1
        assert await consumers(redis, stream) == {}

        [again] = await enqueue_now(rdb)
        reply = await asyncio.wait_for(read, 10)
        [(_, [(entry_id, fields)])] = reply
        assert fields[b"id"].decode() == again != inv
        [row] = await pending(redis, stream)
        assert (row["entry"], row["consumer"]) == (entry_id.decode(), "live")
        assert (await consumers(redis, stream))["live"]["pending"] == 1
    finally:
        read.cancel()
        await reader.aclose()
