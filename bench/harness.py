"""The run context every workload receives: options, Redis, namespaces, processes, repeats.

A workload asks the harness for a fresh namespace (its keys are dropped afterwards, never a
FLUSHDB), a :class:`~bench.stack.Stack` for its processes, and ``repeat`` to run a warm-up
followed by K measured repeats.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from redis.asyncio import Redis

from bench.http_load import HttpRun, post_many
from bench.observe import drop_namespace
from bench.procs import StackEnv
from bench.progress import Progress
from bench.result import Figures
from bench.stack import Stack
from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.settings import DEFAULTS, Settings


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
    http_client: str = "raw"


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
        """HTTP load with the chosen generator; a progress bar when ``label`` is given."""
        with self.progress(count if label else 0, label) as bar:
            return await post_many(
                url, count, concurrency, body, bar if label else None, self.options.http_client
            )

    def progress(self, total: int, label: str) -> Progress:
        return Progress(total, label, enabled=self.options.progress)

    def settings(self, namespace: str) -> Settings:
        return replace(
            DEFAULTS,
            redis_url=self.redis_url,
            namespace=namespace,
            functions_dir=self.functions_dir,
            runner_metrics_port=0,
            log_level="WARNING",
        )

    @asynccontextmanager
    async def namespace(self) -> AsyncIterator[Namespace]:
        """A fresh namespace with its own Redis client and stack; everything is undone after."""
        name = "bench-" + uuid.uuid4().hex[:10]
        settings = self.settings(name)
        redis = make_redis(settings, max_connections=256, socket_timeout=60.0)
        env = StackEnv(self.redis_url, name, self.functions_dir, self.logs)
        stack = Stack(env, redis)
        client = Client(redis, settings)
        try:
            yield Namespace(name, settings, redis, stack, client)
        finally:
            await client.close()
            await stack.close()
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


@dataclass(frozen=True, slots=True)
class Namespace:
    """One workload's slice of Redis and its processes."""

    name: str
    settings: Settings
    redis: Redis
    stack: Stack
    client: Client
