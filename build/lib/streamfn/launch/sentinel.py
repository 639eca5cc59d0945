"""A private Sentinel deployment: one master, its replicas and a quorum of
``redis-server --sentinel`` processes (each with the writable config file Sentinel needs), on
free loopback ports, stopped by pid.

``down-after-milliseconds`` is short (1 s by default) so a failover test sees the replica
promoted within a few seconds.  :attr:`url` is the ``redis+sentinel://`` URL streamfn reads.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import RedisError

from streamfn.launch.redis_server import Persistence, PrivateRedis, RedisUnavailable

SERVICE = "mymaster"
READY_TIMEOUT = 30.0


class PrivateSentinel:
    """``replicas`` replicas of one master, watched by ``sentinels`` sentinels."""

    def __init__(
        self,
        replicas: int = 1,
        sentinels: int = 3,
        *,
        down_after_ms: int = 1000,
        persistence: Persistence = "none",
        service: str = SERVICE,
        directory: Path | None = None,
    ) -> None:
        self.replica_count = replicas
        self.sentinel_count = sentinels
        self.down_after_ms = down_after_ms
        self.persistence = persistence
        self.service = service
        self.dir = directory
        self._owns_dir = directory is None
        self.master: PrivateRedis | None = None
        self.replicas: list[PrivateRedis] = []
        self.sentinels: list[PrivateRedis] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}/0"

    @property
    def servers(self) -> list[PrivateRedis]:
        """The data nodes: the first master and its replicas (whichever is master now)."""
        return [n for n in [self.master, *self.replicas] if n is not None]

    def start(self) -> None:
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="streamfn-sentinel-"))
        try:
            # No 5 s wait before a replica's first (diskless) sync.
            self.master = self._node("master", ["--repl-diskless-sync-delay", "0"])
            for i in range(self.replica_count):
                args = ["--replicaof", "127.0.0.1", str(self.master.port)]
                self.replicas.append(self._node(f"replica{i}", args))
            quorum = self.sentinel_count // 2 + 1
            config = (
                f"sentinel monitor {self.service} 127.0.0.1 {self.master.port} {quorum}\n"
                f"sentinel down-after-milliseconds {self.service} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.service} {max(2000, 4 * self.down_after_ms)}\n"
                f"sentinel parallel-syncs {self.service} 1\n"
            )
            for i in range(self.sentinel_count):
                sentinel = PrivateRedis(
                    self._dir(f"sentinel{i}"), config=config, args=["--sentinel"]
                )
                sentinel.start()
                self.sentinels.append(sentinel)
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _dir(self, name: str) -> Path:
        assert self.dir is not None
        path = self.dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _node(self, name: str, args: list[str]) -> PrivateRedis:
        node = PrivateRedis(self._dir(name), persistence=self.persistence, args=args)
        node.start()
        return node

    def master_port(self) -> int | None:
        """The master's port as the sentinels report it now (None: no answer)."""
        for sentinel in self.sentinels:
            if sentinel.child is None or not sentinel.child.alive():
                continue
            client = redis.Redis(port=sentinel.port, socket_timeout=1.0, decode_responses=True)
            try:
                address: Any = client.sentinel_get_master_addr_by_name(self.service)
                if address:
                    return int(address[1])
            except (RedisError, OSError):
                continue
            finally:
                client.close()
        return None

    def current_master(self) -> PrivateRedis:
        port = self.master_port()
        for node in self.servers:
            if node.port == port:
                return node
        raise LookupError("the sentinels name no master we started")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait until every replica has synced and every sentinel knows the master, its
        replicas and the other sentinels."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._replicas_online() and all(self._sentinel_ready(s) for s in self.sentinels):
                return
            time.sleep(0.1)
        raise RedisUnavailable(f"the sentinels did not agree within {timeout:.0f} s")

    def _replicas_online(self) -> bool:
        assert self.master is not None
        client = redis.Redis(port=self.master.port, socket_timeout=1.0, decode_responses=True)
        try:
            info: Any = client.info("replication")
        except (RedisError, OSError):
            return False
        finally:
            client.close()
        states = [v.get("state") for k, v in info.items() if k.startswith("slave")]
        return sum(1 for s in states if s == "online") >= self.replica_count

    def _sentinel_ready(self, sentinel: PrivateRedis) -> bool:
        client = redis.Redis(port=sentinel.port, socket_timeout=1.0, decode_responses=True)
        try:
            fields: Any = client.sentinel_master(self.service)
            return (
                int(fields.get("num-slaves", 0)) >= self.replica_count
                and int(fields.get("num-other-sentinels", 0)) >= self.sentinel_count - 1
            )
        except (RedisError, OSError, ValueError):
            return False
        finally:
            client.close()

    def stop(self) -> None:
        for node in [*self.sentinels, *self.replicas, *([self.master] if self.master else [])]:
            node.stop(grace=5.0)
        self.sentinels, self.replicas, self.master = [], [], None
        if self._owns_dir and self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> PrivateSentinel:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
