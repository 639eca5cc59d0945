"""A gateway and runners for one workload, started as subprocesses and awaited until ready.

Ready means: the gateway answers ``GET /healthz`` with 200 and lists the function in
``GET /functions``; each runner has published a registry report naming the function (the same
report the gateway reads), so no measured invocation waits for a process to import.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bench.errors import BenchError
from bench.procs import Service, StackEnv, start_gateway, start_runner
from bench.redis_server import free_port
from streamfn.keys import Keys
from streamfn.registry import read_catalog

START_TIMEOUT = 30.0


class Stack:
    """Processes of one workload; ``close`` stops every one of them, by pid."""

    def __init__(self, env: StackEnv, redis: Redis) -> None:
        self.env = env
        self.redis = redis
        self.keys = Keys(env.namespace)
        self.gateway: Service | None = None
        self.runners: list[Service] = []
        self.base_url = ""

    async def start_gateway(self, function: str) -> str:
        """Start the gateway; returns its base URL once it lists ``function``."""
        port = free_port()
        self.gateway = start_gateway(self.env, port)
        self.base_url = f"http://127.0.0.1:{port}"
        await self._await_gateway(function)
        return self.base_url

    async def start_runners(
        self, count: int, function: str, concurrency: int | None = None
    ) -> list[Service]:
        """Start ``count`` runner processes; returns them once all report ``function``."""
        new = [start_runner(self.env, concurrency) for _ in range(count)]
        self.runners.extend(new)
        want = len(self.runners)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive()
            entry = (await read_catalog(self.redis, self.keys)).functions.get(function)
            if entry is not None and int(entry.get("runners", 0)) >= want:
                return new
            await asyncio.sleep(0.05)
        raise BenchError(
            f"{want} runner(s) did not report function {function!r} within {START_TIMEOUT}s; "
            f"runner log:\n{new[-1].log_tail()}"
        )

    def spawn_runner(self, concurrency: int | None = None) -> Service:
        """Start one runner without waiting for it (the cold-start figure times its start-up)."""
        svc = start_runner(self.env, concurrency)
        self.runners.append(svc)
        return svc

    async def stop_runners(self) -> None:
        for r in self.runners:
            await asyncio.to_thread(r.stop)
        self.runners.clear()

    async def close(self) -> None:
        await self.stop_runners()
        if self.gateway is not None:
            await asyncio.to_thread(self.gateway.stop)
            self.gateway = None

    async def __aenter__(self) -> Stack:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _check_alive(self) -> None:
        for svc in [self.gateway, *self.runners]:
            if svc is not None and not svc.alive():
                raise BenchError(
                    f"{svc.name} exited with code {svc.proc.returncode} while starting; "
                    f"its log ({svc.log_path}):\n{svc.log_tail()}"
                )

    async def _await_gateway(self, function: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer yet"
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    async with http.get(f"{self.base_url}/healthz") as r:
                        healthy = r.status == 200
                        last = f"/healthz answered {r.status}"
                    if healthy:
                        async with http.get(f"{self.base_url}/functions") as r:
                            body = await r.json(content_type=None)
                            if r.status == 200 and lists_function(body, function):
                                return
                            last = f"/functions ({r.status}) does not list {function!r} yet"
                except (aiohttp.ClientError, ValueError) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                await asyncio.sleep(0.05)
        tail = self.gateway.log_tail() if self.gateway else ""
        raise BenchError(f"gateway not ready within {START_TIMEOUT}s ({last}); log:\n{tail}")


def lists_function(body: Any, function: str) -> bool:
    """Whether a ``GET /functions`` body names ``function``.

    Accepts a mapping keyed by name, a list of names or of ``{"name": ...}`` objects, or any of
    those under a ``"functions"`` key: the bench should not break on the envelope.
    """
    if isinstance(body, dict):
        if "functions" in body:
            return lists_function(body["functions"], function)
        return function in body or body.get("name") == function
    if isinstance(body, list):
        return any(
            item == function or (isinstance(item, dict) and item.get("name") == function)
            for item in body
        )
    return False
