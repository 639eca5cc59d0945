"""Durable acknowledgement on a Redis Cluster (3 masters, a replica each, real servers): one
WAIT per master on the connection that carried its calls, each master's calls confirmed by
its own WAIT; NOSCRIPT, MOVED and ASK handled on that path; a dead master fails only its own
calls.  Replicas are paused with SIGSTOP by pid (and resumed with SIGCONT)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, TryAgainError

from streamfn.client import Client
from streamfn.connection import AnyRedis, make_redis
from streamfn.durable import Durability
from streamfn.errors import ReplicationUnconfirmed
from streamfn.keys import Keys
from streamfn.launch import PrivateRedis
from streamfn.launch.cluster import PrivateCluster
from streamfn.scripts import PartialBatch, run_batch
from streamfn.settings import DEFAULTS, Settings
from tests.support.cluster_nodes import (
    command_count,
    enqueue_call,
    function_on,
    keyslot,
    masters,
    node_client,
    paused,
    until_replicas_stream,
)

TIMEOUT_MS = 300
DURABILITY = Durability(1, TIMEOUT_MS)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    with PrivateCluster(masters=3, replicas=1) as started:
        yield started


@pytest.fixture
def keys() -> Keys:
    return Keys("d" + uuid.uuid4().hex[:8])


def _settings(cluster: PrivateCluster, keys: Keys) -> Settings:
    return replace(
        DEFAULTS,
        redis_url=cluster.url,
        redis_cluster="on",
        namespace=keys.namespace,
        durable_replicas=1,
        durable_timeout_ms=TIMEOUT_MS,
    )


@pytest.fixture
async def redis(cluster: PrivateCluster, keys: Keys) -> AsyncIterator[AnyRedis]:
    client = make_redis(_settings(cluster, keys))
    try:
        await until_replicas_stream(client, cluster)  # scripts loaded, replicas streaming
        yield client
    finally:
        await client.aclose()


def _ok(results: list[Any]) -> bool:
    """Every reply an enqueue that created its invocation (and was confirmed)."""
    return all(not isinstance(r, Exception) and r[0] == 1 for r in results)


async def test_each_master_gets_one_wait_for_its_own_calls(
    cluster: PrivateCluster, keys: Keys, redis: AnyRedis
) -> None:
    nodes = masters(cluster)
    functions = [function_on(cluster, keys, m) for m in nodes]
    waits = [command_count(m, "wait") for m in nodes]
    evals = [command_count(m, "evalsha") for m in nodes]
    batch = [enqueue_call(keys, functions[i % 3]) for i in range(30)]
    results = await run_batch(redis, batch, durability=DURABILITY)
    assert _ok(results), results
    assert [command_count(m, "wait") - w for m, w in zip(nodes, waits, strict=True)] == [1] * 3
    assert [command_count(m, "evalsha") - e for m, e in zip(nodes, evals, strict=True)] == [10] * 3
    client = Client(redis, _settings(cluster, keys))  # the batcher the gateway uses
    waits = [command_count(m, "wait") for m in nodes]
    done = await asyncio.gather(*(client.enqueue(functions[i % 3], i) for i in range(60)))
    assert all(e.created for e in done)
    assert [command_count(m, "wait") - w for m, w in zip(nodes, waits, strict=True)] == [1] * 3


async def test_a_paused_replica_leaves_only_its_masters_calls_unconfirmed(
    cluster: PrivateCluster, keys: Keys, redis: AnyRedis
) -> None:
    slow, fast = masters(cluster)[:2]
    slow_fn, fast_fn = function_on(cluster, keys, slow), function_on(cluster, keys, fast)
    client = Client(redis, _settings(cluster, keys))
    (replica,) = cluster.replicas_of(slow)
    began = time.monotonic()
    answered: dict[str, float] = {}

    async def enqueue(function: str, key: str) -> Any:
        try:
            return await client.enqueue(function, 1, idempotency_key=key)
        finally:
            answered[function] = time.monotonic() - began

    with paused(replica):
        outcomes = await asyncio.gather(  # one batch: both enqueues, a WAIT on each master
            enqueue(slow_fn, "order-1"), enqueue(fast_fn, "order-2"), return_exceptions=True
        )
    refused, accepted = outcomes
    assert isinstance(refused, ReplicationUnconfirmed), outcomes
    assert (refused.acked, refused.required) == (0, 1)
    assert not isinstance(accepted, BaseException) and accepted.created, outcomes
    assert TIMEOUT_MS / 1000 <= answered[slow_fn] < TIMEOUT_MS / 1000 + 2.0
    assert answered[fast_fn] < answered[slow_fn]  # answered when its own master's WAIT was back
    cluster.wait_ok()  # the replica is back and synced
    again = await client.enqueue(slow_fn, 1, idempotency_key="order-1")
    assert not again.created  # the first write reached the master: queued once, confirmed now
    assert await redis.xlen(keys.stream(slow_fn)) == 1  # no duplicate


async def test_noscript_is_loaded_and_sent_again_on_the_same_connection(
    cluster: PrivateCluster, keys: Keys, redis: AnyRedis
) -> None:
    master = masters(cluster)[0]
    function = function_on(cluster, keys, master)
    flusher = node_client(master)
    try:
        flusher.script_flush()
    finally:
        flusher.close()
    waits = command_count(master, "wait")
    results = await run_batch(
        redis, [enqueue_call(keys, function) for _ in range(5)], durability=DURABILITY
    )
    assert _ok(results), results
    assert command_count(master, "wait") - waits == 2  # the calls, then SCRIPT LOAD and again
    assert await redis.xlen(keys.stream(function)) == 5  # each ran once


async def test_a_slot_moved_mid_batch_is_followed_and_confirmed_there(
    cluster: PrivateCluster, keys: Keys, redis: AnyRedis
) -> None:
    source, target = masters(cluster)[:2]
    function = function_on(cluster, keys, source)
    slot = keyslot(source, keys.stream(function))
    asks = command_count(target, "asking")
    with _migrating(source, target, slot):  # the slot is empty: the source answers ASK
        (result,) = await run_batch(redis, [enqueue_call(keys, function)], durability=DURABILITY)
        # Sent on to the target after ASKING, which refuses a multi-key call whose keys it
        # does not all hold yet (TRYAGAIN); so round after round until they run out: a
        # refusal (503), and it did not run.
        assert isinstance(result, RedisClusterException | TryAgainError), result
        assert command_count(target, "asking") > asks
        assert await redis.xlen(keys.stream(function)) == 0
    assert cluster.master_of(keys.stream(function)).port == target.port  # the slot moved
    redirected = command_count(source, "evalsha", "rejected_calls")
    waits = command_count(target, "wait")
    batch = [enqueue_call(keys, function), enqueue_call(keys, function)]
    results = await run_batch(redis, batch, durability=DURABILITY)  # the client's map is stale
    assert _ok(results), results
    assert command_count(source, "evalsha", "rejected_calls") - redirected == 2  # MOVED
    assert command_count(target, "wait") - waits == 1  # then both on the target, one WAIT
    assert await redis.xlen(keys.stream(function)) == 2


@contextmanager
def _migrating(source: PrivateRedis, target: PrivateRedis, slot: int) -> Iterator[None]:
    """``slot`` migrating from ``source`` to ``target`` for the block, then owned by it."""
    src, dst = node_client(source), node_client(target)
    try:
        source_id, target_id = src.cluster("MYID"), dst.cluster("MYID")
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        yield
        for client in (dst, src):  # the slot was empty: nothing to MIGRATE
            client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
    finally:
        src.close()
        dst.close()


async def test_clusterdown_is_sent_again_after_a_pause(
    cluster: PrivateCluster, keys: Keys, redis: AnyRedis
) -> None:
    master = masters(cluster)[0]
    function = function_on(cluster, keys, master)
    slot = keyslot(master, keys.stream(function))
    refused = command_count(master, "evalsha", "rejected_calls")
    with _unserved(cluster, master, slot) as serve:  # the master answers CLUSTERDOWN for it
        batch = [enqueue_call(keys, function)]
        task = asyncio.create_task(run_batch(redis, batch, durability=DURABILITY))
        for _ in range(500):  # until the first refusal (its retry waits PAUSE)
            if (
                await asyncio.to_thread(command_count, master, "evalsha", "rejected_calls")
                > refused
            ):
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the master never answered CLUSTERDOWN")
        serve()
        results = await task
    assert _ok(results), results
    assert await redis.xlen(keys.stream(function)) == 1


@contextmanager
def _unserved(cluster: PrivateCluster, master: PrivateRedis, slot: int) -> Iterator[Any]:
    """``slot`` unassigned on ``master`` until the block calls the function it is given (the
    other slots served meanwhile: full coverage not required)."""
    clients = [node_client(node) for node in cluster.alive()]
    owner = node_client(master)
    try:
        for client in clients:
            client.config_set("cluster-require-full-coverage", "no")
        owner.execute_command("CLUSTER", "DELSLOTS", slot)
        yield lambda: owner.execute_command("CLUSTER", "ADDSLOTS", slot)
    finally:
        for client in clients:
            client.config_set("cluster-require-full-coverage", "yes")
            client.close()
        owner.close()


async def test_a_dead_master_fails_only_its_own_calls() -> None:
    keys = Keys("d" + uuid.uuid4().hex[:8])
    with PrivateCluster(masters=3, replicas=1) as cluster:
        redis = make_redis(_settings(cluster, keys))
        try:
            await until_replicas_stream(redis, cluster)
            dead, live = masters(cluster)[:2]
            dead_fn, live_fn = function_on(cluster, keys, dead), function_on(cluster, keys, live)
            dead.kill()
            with pytest.raises(PartialBatch) as caught:
                batch = [enqueue_call(keys, f) for f in (live_fn, dead_fn, live_fn)]
                await run_batch(redis, batch, durability=DURABILITY)
            first, lost, second = caught.value.results
            assert isinstance(lost, RedisConnectionError)
            assert _ok([first, second])  # ran, and confirmed by the live master's replica
            with pytest.raises(RedisConnectionError) as only:  # nothing else: the plain error
                await run_batch(redis, [enqueue_call(keys, dead_fn)], durability=DURABILITY)
            assert not isinstance(only.value, PartialBatch)
        finally:
            await redis.aclose()
