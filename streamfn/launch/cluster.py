"""A private Redis Cluster: ``redis-server --cluster-enabled yes`` processes joined with
``redis-cli --cluster create``, on free loopback ports, stopped by pid.

Three masters at least (Redis refuses fewer), optionally with replicas, each a
:class:`PrivateRedis` in a data dir of its own.  ``cluster-node-timeout`` is short (2 s by
default) so a failover test sees a replica promoted in seconds rather than the 15 s default.
The tests' cluster tier (``make test-cluster``) and the bench's multi-master workloads use it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import RedisError

from streamfn.launch.ports import free_cluster_port
from streamfn.launch.redis_server import INSTALL, Persistence, PrivateRedis, RedisUnavailable

CREATE_TIMEOUT = 60.0
STATE_TIMEOUT = 30.0


class PrivateCluster:
    """``masters`` masters with ``replicas`` replicas each; :attr:`url` names the first node."""

    def __init__(
        self,
        masters: int = 3,
        replicas: int = 0,
        *,
        node_timeout_ms: int = 2000,
        persistence: Persistence = "none",
        directory: Path | None = None,
    ) -> None:
        if masters < 3:
            raise ValueError("a Redis Cluster needs at least 3 masters")
        self.masters = masters
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.persistence = persistence
        self.dir = directory
        self._owns_dir = directory is None
        self.nodes: list[PrivateRedis] = []

    @property
    def url(self) -> str:
        """A URL of the first node: a cluster client discovers the rest from it."""
        return self.nodes[0].url

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    def start(self) -> None:
        """Start every node, create the cluster, wait until every slot is served."""
        cli = shutil.which("redis-cli")
        if cli is None or shutil.which("redis-server") is None:
            raise RedisUnavailable(f"redis-server and redis-cli are needed: {INSTALL}")
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="streamfn-cluster-"))
        try:
            for i in range(self.masters * (1 + self.replicas)):
                node = PrivateRedis(
                    self.dir / f"node{i}",
                    persistence=self.persistence,
                    args=[
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", str(self.node_timeout_ms),
                        # Replicas must not wait before they may take over (test failovers),
                        # and their first sync starts at once (not 5 s after they ask).
                        "--cluster-replica-validity-factor", "0",
                        "--repl-diskless-sync-delay", "0",
                    ],
                    pick_port=free_cluster_port,
                )  # fmt: skip
                (self.dir / f"node{i}").mkdir(parents=True, exist_ok=True)
                node.start()
                self.nodes.append(node)
            self._create(cli)
            self.wait_ok()
        except BaseException:
            self.stop()
            raise

    def _create(self, cli: str) -> None:
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        done = subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas),
             "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=CREATE_TIMEOUT,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RedisUnavailable(f"redis-cli --cluster create failed: {done.stdout[-500:]}")

    def wait_ok(self, timeout: float = STATE_TIMEOUT) -> None:
        """Wait until every live node says ``cluster_state:ok`` and knows every node, and
        every live node beyond the ``masters`` is a replica synced with its master (so a
        failover loses no more than the last writes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [self._node_state(node) for node in self.alive()]
            if None not in states and states.count("replica") == len(states) - self.masters:
                return
            time.sleep(0.05)
        raise RedisUnavailable(f"the cluster did not reach cluster_state:ok in {timeout:.0f} s")

    def _node_state(self, node: PrivateRedis) -> str | None:
        """``master`` or ``replica`` (synced) when the node is ok, else None."""
        client = redis.Redis(port=node.port, socket_timeout=1.0, decode_responses=True)
        try:
            info = client.cluster("INFO")
            known = int(info.get("cluster_known_nodes", 0))
            if info.get("cluster_state") != "ok" or known != len(self.nodes):
                return None
            replication: Any = client.info("replication")
            if replication.get("role") != "slave":
                return "master"
            synced = not int(replication.get("master_sync_in_progress", 0))
            return "replica" if replication.get("master_link_status") == "up" and synced else None
        except (RedisError, OSError, ValueError):
            return None
        finally:
            client.close()

    def master_of(self, key: str) -> PrivateRedis:
        """The node serving ``key``'s slot now (after a failover, the promoted replica)."""
        probe = redis.Redis(port=self.alive()[0].port, socket_timeout=1.0)
        try:
            slot = int(probe.cluster("KEYSLOT", key))
            for start, end, primary, *_ in probe.cluster("SLOTS"):
                if start <= slot <= end:
                    port = int(primary[1])
                    return next(n for n in self.nodes if n.port == port)
        finally:
            probe.close()
        raise LookupError(f"no node serves the slot of {key!r}")

    def replicas_of(self, master: PrivateRedis) -> list[PrivateRedis]:
        """The nodes replicating ``master`` now, as it reports them (``INFO replication``)."""
        client = redis.Redis(port=master.port, socket_timeout=1.0, decode_responses=True)
        try:
            info: Any = client.info("replication")
        finally:
            client.close()
        ports = {
            int(v["port"]) for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)
        }
        return [n for n in self.nodes if n.port in ports]

    def alive(self) -> list[PrivateRedis]:
        return [n for n in self.nodes if n.child is not None and n.child.alive()]

    def stop(self) -> None:
        """Stop every node by pid; remove the data dirs we made."""
        for node in self.nodes:
            node.stop(grace=5.0)
        self.nodes = []
        if self._owns_dir and self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> PrivateCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
