"""Completer: outcomes batched into one finish_many call; stale dropped; Redis errors retried."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.keys import GROUP, Keys
from streamfn.launch import free_port
from streamfn.rdb import RDB, Completion
from streamfn.runner.completer import Completer
from streamfn.runner.jobs import DONE, Job, Leases
from streamfn.runner.metrics import Metrics
from streamfn.settings import Settings
from tests.runner.conftest import wait_final, wait_for

FN = "echo"


async def deliver(redis: Redis, keys: Keys, consumer: str, count: int) -> list[tuple[str, str]]:
    """XREADGROUP as ``consumer``: [(entry id, invocation id)] now pending for it."""
    reply: Any = await redis.xreadgroup(GROUP, consumer, {keys.stream(FN): ">"}, count=count)
    return [(e.decode(), f[b"id"].decode()) for _, entries in reply for e, f in entries]


def queued(leases: Leases, completer: Completer, entry: str, inv: str) -> Job:
    job = Job(FN, entry, True)
    job.invocation_id = inv
    job.state = DONE
    leases.add(job)
    completer.add(job, Completion(FN, entry, inv, 1, result=b'{"ok":true}'))
    return job


def metric(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "streamfn_invocations_total", {"function": "unknown", "outcome": outcome}
    )
    return value or 0.0


async def test_outcomes_finished_together_go_in_one_batch(
    redis: Redis, settings: Settings, keys: Keys, client: Client
) -> None:
    ids = await client.enqueue_many(FN, [{"i": i} for i in range(150)])
    delivered = await deliver(redis, keys, "c1", 150)
    leases, metrics = Leases(), Metrics(lambda name: False)
    completer = Completer(RDB(redis, settings), "c1", leases, metrics)
    await completer.start()
    try:
        for entry, inv in delivered:  # all in one turn of the loop, as a burst of finishes
            queued(leases, completer, entry, inv)
        assert completer.pending == 150
        assert await completer.flush(5)
        assert completer.batches == 1
        assert len(leases) == 0
        invs = await wait_final(client, ids, 2)
        assert {i.status for i in invs} == {"succeeded"}
        assert metric(metrics, "succeeded") == 150
    finally:
        await completer.stop()


async def test_batches_are_capped(
    redis: Redis, settings: Settings, keys: Keys, client: Client
) -> None:
    await client.enqueue_many(FN, [{"i": i} for i in range(50)])
    delivered = await deliver(redis, keys, "c1", 50)
    leases, metrics = Leases(), Metrics(lambda name: False)
    completer = Completer(RDB(redis, settings), "c1", leases, metrics, batch_size=20)
    await completer.start()
    try:
        for entry, inv in delivered:
            queued(leases, completer, entry, inv)
        assert await completer.flush(5)
        assert completer.batches == 3
    finally:
        await completer.stop()


async def test_stale_outcome_is_counted_and_never_retried(
    redis: Redis, settings: Settings, keys: Keys, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    (inv_id,) = await client.enqueue_many(FN, [{}])
    ((entry, inv),) = await deliver(redis, keys, "c1", 1)
    # Another runner took the entry over: our lease is lost.
    await redis.xclaim(keys.stream(FN), GROUP, "c2", 0, [entry])
    leases, metrics = Leases(), Metrics(lambda name: False)
    completer = Completer(RDB(redis, settings), "c1", leases, metrics)
    await completer.start()
    try:
        with caplog.at_level(logging.WARNING, "streamfn.runner.parts.completer"):
            queued(leases, completer, entry, inv)
            assert await completer.flush(5)
        assert metric(metrics, "stale") == 1
        assert completer.pending == 0 and len(leases) == 0
        assert "lease was lost" in caplog.text
        inv_now = await client.get(inv_id)
        assert inv_now is not None and inv_now.status == "running"  # c2's delivery, untouched
    finally:
        await completer.stop()


async def test_redis_errors_keep_the_batch_until_it_lands(
    redis: Redis, settings: Settings, keys: Keys, client: Client
) -> None:
    (inv_id,) = await client.enqueue_many(FN, [{}])
    ((entry, inv),) = await deliver(redis, keys, "c1", 1)
    nowhere = make_redis(replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    leases, metrics = Leases(), Metrics(lambda name: False)
    completer = Completer(RDB(nowhere, settings), "c1", leases, metrics)
    await completer.start()
    try:
        queued(leases, completer, entry, inv)
        await wait_for(lambda: completer._backoff.failures >= 2, 5, "two failed flushes")
        assert completer.pending == 1 and len(leases) == 1
        completer.rdb = RDB(redis, settings)  # Redis is reachable again
        assert await completer.flush(5)
        (done,) = await wait_final(client, [inv_id], 2)
        assert done.status == "succeeded"
    finally:
        await completer.stop()
        await nowhere.aclose()
        await asyncio.sleep(0)
