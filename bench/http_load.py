"""Concurrent HTTP load: ``concurrency`` keep-alive connections, each sending its next request
as soon as the previous answer is read (a closed loop).

Two generators: :func:`post_many` picks the lean one in :mod:`bench.raw_http` (default) or
aiohttp's client (``--http-client aiohttp``).  Either runs in the bench process, so its own CPU
(``client_cpu_s``) is reported next to every figure: on a 2-core machine the client competes
with the gateway, the runner and Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import orjson

from bench.procs import self_cpu_seconds
from bench.progress import Progress


@dataclass(slots=True)
class HttpRun:
    """What ``count`` requests got back.  Times are ``time.perf_counter()`` seconds."""

    ids: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    def ok(self, *codes: int) -> int:
        return sum(self.statuses[c] for c in codes)


CLIENTS = ("raw", "aiohttp")


async def post_many(
    url: str,
    count: int,
    concurrency: int,
    body: bytes = b"null",
    progress: Progress | None = None,
    client: str = "raw",
) -> HttpRun:
    """POST ``body`` to ``url`` ``count`` times over ``concurrency`` connections."""
    if client == "raw":
        from bench import raw_http

        return await raw_http.post_many(url, count, concurrency, body, progress)
    return await aiohttp_post_many(url, count, concurrency, body, progress)


async def aiohttp_post_many(
    url: str,
    count: int,
    concurrency: int,
    body: bytes = b"null",
    progress: Progress | None = None,
) -> HttpRun:
    """:func:`post_many` on aiohttp's client."""
    run = HttpRun()
    remaining = count
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal remaining
        done_here = 0
        while remaining > 0:
            remaining -= 1
            t = time.perf_counter()
            try:
                async with http.post(url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                run.errors[type(exc).__name__] += 1
                continue
            run.latencies_ms.append((time.perf_counter() - t) * 1000)
            run.statuses[status] += 1
            if status in (200, 202):
                inv = id_of(raw)
                if inv is not None:
                    run.ids.append(inv)
            done_here += 1
            if progress is not None and done_here % 100 == 0:
                progress.update(100)

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as http:
        cpu0 = self_cpu_seconds()
        run.started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(max(1, min(concurrency, count)))))
        run.finished = time.perf_counter()
        run.client_cpu_s = self_cpu_seconds() - cpu0
    return run


def id_of(raw: bytes) -> str | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    inv = body.get("id") if isinstance(body, dict) else None
    return inv if isinstance(inv, str) else None
