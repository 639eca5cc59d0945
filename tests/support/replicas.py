"""A master with one replica (two private redis-servers, stopped by pid), for WAIT tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from streamfn.launch import PrivateRedis

SYNC_TIMEOUT = 15.0


@contextmanager
def master_with_replica() -> Iterator[tuple[PrivateRedis, PrivateRedis]]:
    """(master, replica), the replica's link up and synced before the body runs."""
    master = PrivateRedis()
    master.start()
    replica = PrivateRedis(args=["--replicaof", "127.0.0.1", str(master.port)])
    try:
        replica.start()
        wait_replicas(master, 1)
        yield master, replica
    finally:
        replica.stop()
        master.stop()


def wait_replicas(master: PrivateRedis, count: int, timeout: float = SYNC_TIMEOUT) -> None:
    """Until ``master`` has ``count`` online replicas."""
    client = redis.Redis(port=master.port, socket_timeout=1.0)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            info: Any = client.info("replication")
            online = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
            if sum(1 for v in online if v.get("state") == "online") >= count:
                return
            time.sleep(0.05)
    finally:
        client.close()
    raise AssertionError(f"{count} replica(s) not online within {timeout:g} s")
