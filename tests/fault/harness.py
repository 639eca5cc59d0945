"""The processes of one fault scenario: Redis, a gateway and runners, and the faults we inject.

A runner with a fault inside it (a crash point, no heartbeat) is started through
:mod:`tests.fault.faulty_runner`: the real ``streamfn runner`` code with an armed injector.

Everything runs on loopback ports picked free, and every signal goes to a pid this harness
started (never a process found by name).  A scenario that kills or restarts Redis gets a
private redis-server (with ``appendonly`` as it asks); the others use the session's.  A
failover scenario gets a Sentinel deployment (``sentinel=True``) or a 3-master Redis Cluster
with a replica per master (``cluster=True``) of its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from redis.exceptions import RedisError

from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import GROUP, Keys
from streamfn.launch import Child, PrivateRedis, python_module, spawn_runner
from streamfn.launch.cluster import PrivateCluster
from streamfn.launch.sentinel import PrivateSentinel
from streamfn.registry import read_catalog
from streamfn.settings import Settings
from tests.fault.probe import Execution, read_executions, write_probe
from tests.support.procs import ROOT, env_for, start_gateway, wait_until


class Stack:
    """One scenario's processes; :meth:`close` stops every one of them (SIGCONT first)."""

    def __init__(
        self,
        settings: Settings,
        tmp: Path,
        *,
        own_redis: bool = False,
        appendonly: bool = False,
        sentinel: bool = False,
        cluster: bool = False,
    ) -> None:
        self.tmp = tmp
        self.server: PrivateRedis | None = None
        self.deployment: PrivateSentinel | None = None
        self.cluster: PrivateCluster | None = None
        if own_redis:
            self.server = PrivateRedis(persistence="aof" if appendonly else "none")
            self.server.start()
            settings = replace(settings, redis_url=self.server.url)
        if sentinel:  # 1 master, 1 replica, 3 sentinels; everything reaches it by Sentinel
            self.deployment = PrivateSentinel(replicas=1, sentinels=3)
            self.deployment.start()
            settings = replace(settings, redis_url=self.deployment.url)
        if cluster:  # 3 masters, a replica each; cluster-node-timeout 2 s
            self.cluster = PrivateCluster(masters=3, replicas=1, node_timeout_ms=2000)
            self.cluster.start()
            settings = replace(settings, redis_url=self.cluster.url)
        self.settings = settings
        self.keys = Keys.of(settings)
        self.probe_log = tmp / "exec.log"
        self.runners: list[Child] = []
        self.gateways: list[Child] = []
        self.redis: AnyRedis = make_redis(settings)
        self._old_clients: list[AnyRedis] = []
        self.env: dict[str, str] = {"PROBE_FILE": str(self.probe_log)}

    def probe(self, name: str = "probe", **policy: Any) -> None:
        write_probe(self.settings.functions_dir, name, **policy)

    def executions(self) -> list[Execution]:
        return read_executions(self.probe_log)

    def start_runner(self, *, crash_at: str = "", no_heartbeat: bool = False, **env: str) -> Child:
        """A runner with ``env`` on top of the stack's; ``crash_at`` (``<point>[:<k>]``) and
        ``no_heartbeat`` arm the faults of :mod:`tests.fault.faulty_runner`."""
        full_env = env_for(self.settings, **{**self.env, **env})
        faults = [*(["--crash-at", crash_at] if crash_at else [])]
        faults += ["--no-heartbeat"] if no_heartbeat else []
        if faults:
            argv = python_module("tests.fault.faulty_runner", *faults)
            log = self.tmp / f"runner-{time.monotonic_ns()}.log"
            proc = Child("runner", argv, full_env, cwd=ROOT).start(log=log)
        else:
            proc = spawn_runner(full_env, self.tmp, cwd=ROOT)
        self.runners.append(proc)
        return proc

    async def start_gateway(self, **env: str) -> Child:
        proc = await start_gateway(self.settings, self.tmp, **{**self.env, **env})
        self.gateways.append(proc)
        return proc

    async def runners_ready(self, count: int, function: str = "probe", timeout: float = 20) -> None:
        """Wait until ``count`` runners report ``function`` loaded (and read its stream)."""

        async def ready() -> bool:
            ids = await self.redis.smembers(self.keys.runners)
            if len(ids) < count:
                return False
            raws = await self.redis.mget([self.keys.runner(i.decode()) for i in ids])
            loaded = [r for r in raws if r is not None and function.encode() in r]
            return len(loaded) >= count

        await wait_until(ready, timeout, interval=0.05, what=f"{count} runners with {function}")
        for gateway in self.gateways:  # its catalog refreshes every 0.5 s
            await wait_until(
                _listed(gateway, function), timeout, interval=0.05, what=f"{function} listed"
            )

    async def runner_ready(self, proc: Child, function: str = "probe", timeout: float = 20) -> None:
        """Wait until the runner ``proc`` reports ``function`` loaded (found by its pid).

        Unlike :meth:`runners_ready` this ignores reports of runners that died before.
        """

        async def ready() -> bool:
            catalog = await read_catalog(self.redis, self.keys)
            return any(r.pid == proc.pid and function in r.functions for r in catalog.runners)

        if not proc.alive():
            raise AssertionError(f"runner {proc.pid} exited: {proc.output()[-2000:]}")
        await wait_until(ready, timeout, interval=0.05, what=f"runner {proc.pid} with {function}")

    async def deliveries(self, function: str = "probe") -> dict[str, int]:
        """Times delivered of each pending entry of ``function`` (XPENDING, extended form)."""
        try:
            rows: Any = await self.redis.xpending_range(
                self.keys.stream(function), GROUP, min="-", max="+", count=100_000
            )
        except RedisError:
            return {}
        return {r["message_id"].decode(): int(r["times_delivered"]) for r in rows}

    async def pending_by_consumer(self, function: str = "probe") -> dict[str, int]:
        try:
            info: Any = await self.redis.xpending(self.keys.stream(function), GROUP)
        except Exception:
            return {}
        return {c["name"].decode(): int(c["pending"]) for c in info.get("consumers") or []}

    @staticmethod
    def pid_of(consumer: str) -> int:
        """Consumers are named ``<host>-<pid>-<hex>``."""
        return int(consumer.rsplit("-", 2)[1])

    def runner_by_pid(self, pid: int) -> Child:
        return next(p for p in self.runners if p.pid == pid)

    # Faults on our own processes, by pid.
    @staticmethod
    def kill(proc: Child, sig: int = signal.SIGKILL) -> float:
        proc.signal(sig)
        return time.time()

    def kill_redis(self) -> float:
        assert self.server is not None and self.server.child is not None
        self.server.kill()
        return time.time()

    def restart_redis(self) -> float:
        """Start Redis again (same port and data dir); the time just before it started."""
        assert self.server is not None
        began = time.time()
        self.server.start()
        self._old_clients.append(self.redis)  # its pooled connections died with the server
        self.redis = make_redis(self.settings)
        return began

    async def close(self) -> None:
        for proc in self.runners + self.gateways:
            if proc.alive():
                os.kill(proc.pid, signal.SIGCONT)
        await asyncio.gather(*(asyncio.to_thread(p.stop, 10) for p in self.runners + self.gateways))
        for client in [self.redis, *self._old_clients]:
            await client.aclose()
        if self.server is not None:
            self.server.stop()
        if self.deployment is not None:
            self.deployment.stop()
        if self.cluster is not None:
            self.cluster.stop()


def _listed(gateway: Child, function: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{gateway.url}/functions") as r:
                body = await r.json()
        except (aiohttp.ClientError, ValueError):
            return False
        return any(f.get("name") == function for f in body.get("functions", []))

    return check


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    """Seconds until ``check()`` held (fails the test after ``timeout``).

    A Redis error counts as "not yet": the checks run while Redis restarts.
    """

    async def tolerant() -> bool:
        try:
            return await check()
        except (RedisError, OSError):
            return False

    return await wait_until(tolerant, timeout, interval=0.05, what=what)
