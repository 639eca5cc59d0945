"""The run context every workload receives: options, Redis, namespaces, processes, repeats.

A workload asks the harness for a fresh namespace (its keys are dropped afterwards, never a
FLUSHDB), a :class:`BenchStack` for its processes, and ``repeat`` to run a warm-up followed by
K measured repeats.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench.failure import BenchError
from bench.observe import drop_namespace
from bench.progress import Progress
from bench.raw_http import HttpRun, post_many
from bench.result import Figures
from streamfn.client import Client
from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import Keys
from streamfn.launch import Child, Stack
from streamfn.registry import read_catalog
from streamfn.settings import DEFAULTS, Settings

START_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Options:
    """The command line, parsed."""

    workloads: tuple[str, ...]
    n: int | None = None
    runners: int = 1
    repeat: int = 3
    redis_url: str | None = None
    out: Path | None = None
    quick: bool = False
    concurrency: int = 64
    peers: tuple[str, ...] | None = None
    progress: bool = True
    runner_concurrency: int | None = None
    """STREAMFN_CONCURRENCY of every runner started (None: the default setting)."""


class Harness:
    """Shared by the workloads of one run."""

    def __init__(self, options: Options, redis_url: str, own_redis: bool, tmp: Path) -> None:
        self.options = options
        self.redis_url = redis_url
        self.own_redis = own_redis
        self.tmp = tmp
        self.functions_dir = tmp / "functions"
        self.logs = tmp / "logs"
        self.logs.mkdir(exist_ok=True)

    @property
    def repeats(self) -> int:
        return 1 if self.options.quick else max(1, self.options.repeat)

    def n(self, full: int, quick: int) -> int:
        """``--n`` if given, else the workload's full or quick size."""
        if self.options.n is not None:
            return self.options.n
        return quick if self.options.quick else full

    def redis_db_url(self, db: int) -> str:
        """The run's Redis URL with another database number (the peers each get their own)."""
        base = self.redis_url.rsplit("/", 1)[0] if self.redis_url.count("/") > 2 else self.redis_url
        return f"{base}/{db}"

    async def post_many(
        self, url: str, count: int, concurrency: int, body: bytes = b"null", label: str = ""
    ) -> HttpRun:
        """HTTP load from :mod:`bench.raw_http`; a progress bar when ``label`` is given."""
        with self.progress(count if label else 0, label) as bar:
            return await post_many(url, count, concurrency, body, bar if label else None)

    def progress(self, total: int, label: str) -> Progress:
        return Progress(total, label, enabled=self.options.progress)

    def settings(
        self, namespace: str, redis_url: str | None = None, functions_dir: Path | None = None
    ) -> Settings:
        return replace(
            DEFAULTS,
            redis_url=redis_url or self.redis_url,
            namespace=namespace,
            functions_dir=functions_dir or self.functions_dir,
            runner_metrics_port=0,
            log_level="WARNING",
        )

    def environ(
        self, namespace: str, redis_url: str | None = None, functions_dir: Path | None = None
    ) -> dict[str, str]:
        """The ``STREAMFN_*`` variables every gateway and runner of a workload shares."""
        # Drop the caller's STREAMFN_* so a stray variable cannot change what we measure.
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFN_")}
        env.update(
            STREAMFN_REDIS_URL=redis_url or self.redis_url,
            STREAMFN_NAMESPACE=namespace,
            STREAMFN_FUNCTIONS_DIR=str(functions_dir or self.functions_dir),
            STREAMFN_HOST="127.0.0.1",
            STREAMFN_RUNNER_METRICS_PORT="0",
            STREAMFN_LOG_LEVEL="WARNING",
        )
        if self.options.runner_concurrency is not None:
            env["STREAMFN_CONCURRENCY"] = str(self.options.runner_concurrency)
        return env

    @asynccontextmanager
    async def namespace(
        self, redis_url: str | None = None, functions_dir: Path | None = None
    ) -> AsyncIterator[Namespace]:
        """A fresh namespace with its own Redis client and stack; everything is undone after.

        ``redis_url`` (default: the run's Redis) and ``functions_dir`` (default: the bench
        handlers) let a workload measure on another server, or serve functions of its own.
        """
        name = "bench-" + uuid.uuid4().hex[:10]
        settings = self.settings(name, redis_url, functions_dir)
        redis = make_redis(settings, max_connections=256, socket_timeout=60.0)
        env = self.environ(name, redis_url, functions_dir)
        stack = BenchStack(env, self.logs, redis, Keys(name))
        client = Client(redis, settings)
        try:
            yield Namespace(name, settings, redis, stack, client)
        finally:
            await client.close()
            await asyncio.to_thread(stack.stop)
            await drop_namespace(redis, name)
            await redis.aclose()

    async def repeat(
        self,
        measure: Callable[[int], Awaitable[Figures]],
        warmup: Callable[[], Awaitable[object]] | None = None,
    ) -> list[Figures]:
        """Run ``warmup`` once, then ``measure(i)`` for each repeat, pausing briefly between."""
        if warmup is not None:
            await warmup()
        out: list[Figures] = []
        for i in range(self.repeats):
            out.append(await measure(i))
            await asyncio.sleep(0.2)  # let the previous repeat's tail (TTL writes, logs) settle
        return out


class BenchStack(Stack):
    """A workload's gateway and runners, awaited until ready before anything is measured.

    Ready means: the gateway answers ``GET /healthz`` and lists the function in
    ``GET /functions``; each runner has published a registry report naming the function (the
    same report the gateway reads), so no measured invocation waits for a process to import.
    """

    def __init__(self, env: dict[str, str], log_dir: Path, redis: AnyRedis, keys: Keys) -> None:
        super().__init__(env, log_dir)
        self.redis = redis
        self.keys = keys

    async def serve(self, function: str) -> str:
        """Start the gateway; returns its base URL once it lists ``function``."""
        gateway = self.start_gateway()
        await self.await_ready(gateway, functions={function}, timeout=START_TIMEOUT)
        return gateway.url

    def start_background(self) -> list[Child]:
        """Start the processes this commit's deployment runs beside gateways and runners
        (one ``streamfn scheduler``); returns them, so a workload can count their CPU."""
        return [self.start_scheduler()]

    async def start_runners(
        self,
        count: int,
        function: str | Sequence[str],
        concurrency: int | None = None,
        timeout: float = START_TIMEOUT,
    ) -> list[Child]:
        """Start ``count`` runner processes; returns them once all report ``function`` (every
        one of them, when it is several)."""
        functions = [function] if isinstance(function, str) else list(function)
        args = ("--concurrency", str(concurrency)) if concurrency is not None else ()
        new = [self.start_runner(*args) for _ in range(count)]
        want = len(self.runners)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            catalog = (await read_catalog(self.redis, self.keys)).functions
            if all(int(catalog.get(fn, {}).get("runners", 0)) >= want for fn in functions):
                return new
            await asyncio.sleep(0.05)
        raise BenchError(
            f"{want} runner(s) did not report {', '.join(functions[:10])} within {timeout:g}s; "
            f"runner log:\n{new[-1].log_tail()}"
        )


@dataclass(frozen=True, slots=True)
class Namespace:
    """One workload's slice of Redis and its processes."""

    name: str
    settings: Settings
    redis: AnyRedis
    stack: BenchStack
    client: Client
