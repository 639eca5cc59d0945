"""Every filter of a listing returns exactly the matching invocations, newest first, each
once, checked against the ground truth the seeding kept (:mod:`tests.index.seed`)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from redis.asyncio import Redis

from streamfn import index
from streamfn.keys import GROUP, Keys
from streamfn.names import new_invocation_id
from streamfn.outcomes import Completion
from streamfn.rdb import RDB
from streamfn.settings import Settings
from tests.index.seed import FN, QUEUES, SCHEDULES, STATUSES, TAGS, Truth, ms_of, seed


async def every_page(redis: Redis, keys: Keys, limit: int = 97, **filters: object) -> list[str]:
    """Every page of a listing, concatenated; asserts each page is newest first."""
    out: list[str] = []
    cursor = None
    for _ in range(10_000):
        q = index.Query(FN, cursor=cursor, limit=limit, **filters)  # type: ignore[arg-type]
        page = await index.list_page(redis, keys, QUEUES, q)
        ids = [r["id"] for r in page.rows]
        assert ids == sorted(ids, reverse=True)
        assert len(ids) <= limit
        out += ids
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor
    raise AssertionError("pagination did not end")


async def check_every_filter(redis: Redis, keys: Keys, truth: Truth) -> None:
    ids = truth.ids()
    times = sorted(ms_of(i) for i in ids)
    since, until = times[len(times) // 4], times[3 * len(times) // 4]
    cases: list[tuple[dict[str, object], Callable[[str], bool]]] = [({}, lambda i: True)]
    for s in STATUSES:
        cases.append(({"status": s}, lambda i, s=s: truth.status[i] == s))  # type: ignore[misc]
    for t in TAGS:
        cases.append(({"tag": t}, lambda i, t=t: t in truth.tags[i]))  # type: ignore[misc]
    for sid in SCHEDULES:
        cases.append(({"schedule": sid}, lambda i, sid=sid: truth.schedule.get(i) == sid))  # type: ignore[misc]
    cases += [
        ({"since_ms": since}, lambda i: ms_of(i) >= since),
        ({"until_ms": until}, lambda i: ms_of(i) < until),
        (
            {"status": "succeeded", "tag": "red", "since_ms": since, "until_ms": until},
            lambda i: (
                truth.status[i] == "succeeded"
                and "red" in truth.tags[i]
                and since <= ms_of(i) < until
            ),
        ),
        (
            {"schedule": "nightly", "status": "dead"},
            lambda i: truth.schedule.get(i) == "nightly" and truth.status[i] == "dead",
        ),
    ]
    for inv, key in list(truth.idem.items())[:20]:
        cases.append(({"idempotency_key": key}, lambda i, inv=inv: i == inv))  # type: ignore[misc]
    for filters, match in cases:
        got = await every_page(redis, keys, **filters)
        assert got == [i for i in ids if match(i)], filters


async def test_every_filter_matches_the_ground_truth(redis: Redis, keys: Keys, rdb: RDB) -> None:
    """20,000 invocations with mixed outcomes over two partition queues (~8 s)."""
    truth = Truth()
    await seed(rdb, keys, 20_000, random.Random(13), truth)
    await check_every_filter(redis, keys, truth)
    want = {s: sum(1 for v in truth.status.values() if v == s) for s in STATUSES}
    assert await index.counts(redis, keys, QUEUES) == want


async def test_pagination_returns_each_once_while_new_ones_arrive_and_others_finish(
    redis: Redis, keys: Keys, rdb: RDB
) -> None:
    truth = Truth()
    await seed(rdb, keys, 1000, random.Random(7), truth)
    before = set(truth.ids())
    running = []
    for q in QUEUES:
        ids = {e.decode(): f[b"id"].decode() for e, f in await redis.xrange(keys.stream(q))}
        for r in await redis.xpending_range(keys.stream(q), GROUP, "-", "+", 10_000):
            entry = r["message_id"].decode()
            running.append(Completion(q, entry, ids[entry], 1, result=b"1"))
    assert len(running) > 50
    seen: list[str] = []
    cursor = None
    for _ in range(1000):
        page = await index.list_page(redis, keys, QUEUES, index.Query(FN, cursor=cursor, limit=50))
        seen += [r["id"] for r in page.rows]
        # meanwhile new invocations arrive, and running ones finish (live -> succeeded)
        for _ in range(20):
            await rdb.enqueue(FN, new_invocation_id(FN), b"1")
        finish, running = running[:5], running[5:]
        assert set(await rdb.finish_many("r1", finish)) <= {"succeeded"}
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen))
    assert set(seen) == before


async def test_the_newest_come_first_across_partitions(redis: Redis, keys: Keys, rdb: RDB) -> None:
    truth = Truth()
    await seed(rdb, keys, 200, random.Random(3), truth)
    page = await index.list_page(redis, keys, QUEUES, index.Query(FN, limit=10))
    assert [r["id"] for r in page.rows] == truth.ids()[:10]
    assert {r["id"].split(".")[1][12:14] for r in page.rows} <= {"00", f"{16 + 1:02x}"}
    row = page.rows[0]
    assert row["function"] == FN and row["status"] == truth.status[row["id"]]


async def test_expired_records_leave_the_index_and_the_counts(
    redis: Redis, keys: Keys, settings: Settings
) -> None:
    short = RDB(redis, replace(settings, result_ttl=0.3, dead_ttl=0.3))
    truth = Truth()
    await seed(short, keys, 300, random.Random(5), truth)
    live = {i for i, s in truth.status.items() if s in ("scheduled", "queued", "running")}
    # failed records keep the default failed TTL (the result TTL): gone too
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        counts = await index.counts(redis, keys, QUEUES)
        if all(counts[s] == 0 for s in ("succeeded", "failed", "dead", "cancelled")):
            break
    assert set(await every_page(redis, keys)) == live
    for q in QUEUES:
        assert not await redis.exists(keys.index_expiry(q))
        raw = await redis.zrange(keys.index_status(q), 0, -1)
        assert all(m.startswith(b"live:") for m in raw)
