"""A Redis Cluster's nodes as durable-acknowledgement tests see them: which are masters,
a function whose keys live on a given master, command counts, a node paused by pid."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis as sync_redis

from streamfn.connection import AnyRedis
from streamfn.durable import Durability
from streamfn.keys import Keys
from streamfn.launch import PrivateRedis
from streamfn.launch.cluster import PrivateCluster
from streamfn.names import new_invocation_id
from streamfn.scripts import Call, run_batch
from streamfn.scripts.invocation_calls import enqueue

NAMES = [f"f{i}" for i in range(200)]
STREAMING_TIMEOUT = 10.0


def node_client(node: PrivateRedis) -> sync_redis.Redis:
    return sync_redis.Redis(port=node.port, socket_timeout=1.0, decode_responses=True)


def masters(cluster: PrivateCluster) -> list[PrivateRedis]:
    """The live nodes that are masters now (after a failover, the promoted ones)."""
    found = []
    for node in cluster.alive():
        client = node_client(node)
        try:
            if client.info("replication")["role"] == "master":
                found.append(node)
        finally:
            client.close()
    return found


def function_on(cluster: PrivateCluster, keys: Keys, master: PrivateRedis) -> str:
    """A function whose keys live on ``master``, in a slot that holds no key yet."""
    for name in NAMES:
        key = keys.stream(name)
        if cluster.master_of(key).port == master.port and slot_keys(master, key) == 0:
            return name
    raise AssertionError(f"no empty slot of {master.port} among {len(NAMES)} names")


def keyslot(node: PrivateRedis, key: str) -> int:
    client = node_client(node)
    try:
        return int(client.cluster("KEYSLOT", key))
    finally:
        client.close()


def slot_keys(node: PrivateRedis, key: str) -> int:
    client = node_client(node)
    try:
        return int(client.cluster("COUNTKEYSINSLOT", keyslot(node, key)))
    finally:
        client.close()


def command_count(node: PrivateRedis, command: str, field: str = "calls") -> int:
    """``command``'s count on ``node`` (``rejected_calls``: those refused, MOVED and ASK too)."""
    client = node_client(node)
    try:
        stats: Any = client.info("commandstats")
    finally:
        client.close()
    return int(stats.get(f"cmdstat_{command}", {}).get(field, 0))


def enqueue_call(keys: Keys, function: str, key: str | None = None) -> Call:
    return enqueue(keys, function, new_invocation_id(function), b"{}", idempotency_key=key)


async def until_replicas_stream(redis: AnyRedis, cluster: PrivateCluster) -> None:
    """Until one enqueue on each master is confirmed by a replica.

    A replica that has just finished its first sync is online, but Redis holds its replication
    stream back until the replica's next ``REPLCONF ACK``, which comes up to 1 s later (Redis
    7.0, when the ACK that ends the sync came before the master saw the sync end).  A WAIT
    shorter than that, in that second, confirms nothing: a real effect, not the one a test of
    confirmation means to see.  (The enqueues go to a namespace of their own.)
    """
    keys = Keys("warm" + uuid.uuid4().hex[:8])
    functions = [function_on(cluster, keys, m) for m in masters(cluster)]
    deadline = time.monotonic() + STREAMING_TIMEOUT
    while time.monotonic() < deadline:
        calls = [enqueue_call(keys, f) for f in functions]
        results = await run_batch(redis, calls, durability=Durability(1, 1000))
        if not any(isinstance(r, Exception) for r in results):
            return
    raise AssertionError(f"replicas did not confirm within {STREAMING_TIMEOUT:g} s")


@contextmanager
def paused(node: PrivateRedis) -> Iterator[None]:
    """``node`` frozen (SIGSTOP by pid) for the block, then resumed (SIGCONT)."""
    assert node.child is not None
    node.child.pause()
    try:
        yield
    finally:
        node.child.resume()
