"""M4: arrivals at several times the runners' service rate against a backlog cap.

One runner serves about ``SERVICE_RATE`` invocations per second (``CONCURRENCY`` slots, each
handler sleeps ``SLEEP`` s); the load client posts ``RATE_FACTOR`` times that for ``SECONDS``
s, open loop, through a gateway with ``STREAMFN_MAX_BACKLOG`` = ``CAP``.
Hard: the overflow is answered 429 with a Retry-After (never a 5xx, nothing written for it);
the stream never holds more than ``CAP`` entries; every acknowledged invocation runs once the
load stops (lost = 0); Redis memory and the gateway's RSS stay bounded (peaks recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from streamfn.launch import Child
from tests.fault.checker import all_succeeded, check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import Stack, eventually

pytestmark = pytest.mark.fault

CAP = 10
CONCURRENCY = 2
SLEEP = 0.2
SERVICE_RATE = CONCURRENCY / SLEEP  # invocations per second one runner finishes
RATE_FACTOR = 6
SECONDS = 5.0
MB = 1024 * 1024


@dataclass
class Overload:
    """What the load client saw: statuses, acknowledged ids, the Retry-After of each 429."""

    statuses: Counter[int] = field(default_factory=Counter)
    acked: dict[str, float | None] = field(default_factory=dict)
    retry_after: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class Peaks:
    """Highest values the sampler saw while the load ran."""

    stream_len: int = 0
    redis_bytes: int = 0
    gateway_rss: int = 0
    samples: int = 0


async def _post(http: aiohttp.ClientSession, url: str, seen: Overload) -> None:
    try:
        async with http.post(f"{url}/invoke/probe", json={"sleep": SLEEP}) as r:
            body = await r.json(content_type=None)
            seen.statuses[r.status] += 1
            if r.status == 202:
                seen.acked[body["id"]] = None
            elif r.status == 429:
                seen.retry_after[r.headers.get("Retry-After", "missing")] += 1
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        seen.errors[type(exc).__name__] += 1


async def _open_loop(url: str, rate: float, seconds: float) -> Overload:
    """Post at ``rate`` per second for ``seconds`` s whatever the answers (open loop)."""
    seen = Overload()
    count = int(rate * seconds)
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        tasks = []
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_post(http, url, seen)))
        await asyncio.gather(*tasks)
    return seen


def _rss(proc: Child) -> int:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def _redis_bytes(stack: Stack) -> int:
    return int((await stack.redis.info("memory"))["used_memory"])


async def _sample(stack: Stack, gateway: Child, stop: asyncio.Event, peaks: Peaks) -> None:
    """Every 20 ms until ``stop``: stream length, Redis used_memory, gateway RSS."""
    stream = stack.keys.stream("probe")
    while not stop.is_set():
        peaks.stream_len = max(peaks.stream_len, int(await stack.redis.xlen(stream)))
        peaks.redis_bytes = max(peaks.redis_bytes, await _redis_bytes(stack))
        peaks.gateway_rss = max(peaks.gateway_rss, _rss(gateway))
        peaks.samples += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.02)


async def _invocation_records(stack: Stack) -> int:
    pattern = stack.keys.invocation("probe", "*")
    return sum([1 async for _ in stack.redis.scan_iter(match=pattern, count=1000)])


async def test_m4_overload_is_refused_with_429_and_loses_nothing(make_stack: MakeStack) -> None:
    stack = await make_stack(own_redis=True)
    stack.probe()
    stack.start_runner(STREAMFN_CONCURRENCY=str(CONCURRENCY))
    gateway = await stack.start_gateway(STREAMFN_MAX_BACKLOG=str(CAP))
    await stack.runners_ready(1)
    redis_before, rss_before = await _redis_bytes(stack), _rss(gateway)
    peaks = Peaks(redis_bytes=redis_before, gateway_rss=rss_before)
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(stack, gateway, stop, peaks))
    rate = SERVICE_RATE * RATE_FACTOR
    try:
        started = time.monotonic()
        seen = await _open_loop(gateway.url, rate, SECONDS)
        load_s = time.monotonic() - started
    finally:
        stop.set()
        await sampler
    acked = seen.acked
    drain_s = await eventually(
        lambda: all_succeeded(stack.redis, stack.keys, acked), 30, "the backlog to drain"
    )
    runs = stack.executions()
    figures = check(acked, runs, await final_statuses(stack.redis, stack.keys, acked))
    records = await _invocation_records(stack)
    sent = sum(seen.statuses.values()) + sum(seen.errors.values())
    record(
        "M4",
        title=f"overload: {RATE_FACTOR}x the service rate against a backlog cap of {CAP}",
        fault=f"{sent} POSTs at {rate:g}/s for {SECONDS:g} s; one runner serving "
        f"~{SERVICE_RATE:g}/s ({CONCURRENCY} slots, {SLEEP} s handler); "
        f"STREAMFN_MAX_BACKLOG={CAP}",
        expectation="overflow is 429 with Retry-After, never 5xx; stream never above the cap; "
        "lost 0; memory bounded",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(drain_s, 2),
        sent=sent,
        accepted=len(acked),
        refused_429=seen.statuses[429],
        statuses=dict(sorted(seen.statuses.items())),
        retry_after=dict(seen.retry_after),
        connection_errors=dict(seen.errors),
        served_per_s=round(len(acked) / (load_s + drain_s), 1),
        stream_len_peak=peaks.stream_len,
        redis_mb_before=round(redis_before / MB, 2),
        redis_mb_peak=round(peaks.redis_bytes / MB, 2),
        gateway_rss_mb_before=round(rss_before / MB, 1),
        gateway_rss_mb_peak=round(peaks.gateway_rss / MB, 1),
        samples=peaks.samples,
        unacked_executed=figures["unacked_executed"],
    )
    assert not seen.errors, seen.errors
    assert set(seen.statuses) <= {202, 429}, seen.statuses
    assert seen.statuses[429] > 0, "the load exceeded the cap"
    assert seen.statuses[202] >= CAP, "work was accepted while the runner kept up"
    assert set(seen.retry_after) <= {str(s) for s in range(1, 61)}, seen.retry_after
    assert figures["lost"] == 0, figures
    assert figures["unacked_executed"] == 0, "a refused request was enqueued"
    assert records == len(acked), "a refused request left a record"
    assert peaks.samples > 10
    assert peaks.stream_len <= CAP, peaks
    assert peaks.redis_bytes - redis_before < 16 * MB, peaks
    assert peaks.gateway_rss - rss_before < 64 * MB, peaks
