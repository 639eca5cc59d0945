"""Fixtures for the runner tests: handler files, in-process runners, a client, waits.

In-process runners (``Runner`` in the test's event loop) keep most tests fast; tests about
signals and crashes start real ``streamfn runner`` processes via :mod:`tests.support.procs`.
Handlers that record what they do append lines to a file in the test's tmp dir (never to the
Redis under test).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.record import Invocation
from streamfn.runner.supervisor import Runner
from streamfn.settings import Settings

StartRunner = Callable[..., Awaitable[Runner]]


def write_function(directory: Path, name: str, source: str) -> Path:
    """Write ``<directory>/<name>.py`` atomically (a new inode), as editors and deploys do."""
    path = directory / f"{name}.py"
    tmp = directory / f".{name}.py.tmp"
    tmp.write_text(textwrap.dedent(source))
    os.replace(tmp, path)
    return path


RECORDER = """
import asyncio, time
LOG = {log!r}

def record(*parts):
    with open(LOG, "a") as f:
        f.write(" ".join(str(p) for p in parts) + "\\n")
"""


def recorder(log: Path, body: str) -> str:
    """Handler source with ``record(*parts)`` appending a line to ``log``."""
    return textwrap.dedent(RECORDER.format(log=str(log))) + textwrap.dedent(body)


def lines(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


async def wait_for(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float, what: str = ""
) -> float:
    """Poll ``check`` (sync or async) until true; the seconds it took, or fail the test."""
    start = time.monotonic()
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        await asyncio.sleep(0.02)


async def wait_final(client: Client, ids: list[str], timeout: float = 10.0) -> list[Invocation]:
    """Wait until every invocation reached a final status; returns them in order."""
    found: dict[str, Invocation] = {}

    async def all_final() -> bool:
        for inv_id in ids:
            if inv_id in found:
                continue
            inv = await client.get(inv_id)
            if inv is None or not inv.final:
                return False
            found[inv_id] = inv
        return True

    await wait_for(all_final, timeout, f"{len(ids)} invocations to finish")
    return [found[i] for i in ids]


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """Settings with short leases, for tests about heartbeats, reclaim and shutdown."""
    return replace(settings, visibility_timeout=1.0, claim_interval=0.2, shutdown_grace=1.0)


@pytest.fixture
def fdir(settings: Settings) -> Path:
    return Path(settings.functions_dir)


@pytest.fixture
async def client(redis: Redis, settings: Settings) -> AsyncIterator[Client]:
    c = Client(redis, settings)
    yield c


@pytest.fixture
async def start_runner(settings: Settings) -> AsyncIterator[StartRunner]:
    """Start in-process runners (``serve()`` as a task); all are stopped at teardown."""
    started: list[tuple[Runner, asyncio.Task[int]]] = []

    async def start(
        use: Settings | None = None, *, concurrency: int | None = None, burst: bool = False
    ) -> Runner:
        runner = Runner(use or settings, concurrency=concurrency, burst=burst)
        task = asyncio.create_task(runner.serve())
        started.append((runner, task))
        await wait_for(lambda: runner.started.is_set() or task.done(), 10, "runner start")
        if task.done():
            task.result()  # raise what went wrong
        return runner

    yield start
    for runner, _ in started:
        runner.request_stop()
        runner.request_stop()  # skip the grace: tests that care stop runners themselves
    for _, task in started:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(15):
                await task


async def stop(runner: Runner, timeout: float = 15.0) -> None:
    """Request a graceful stop and wait until the runner has shut down."""
    runner.request_stop()
    async with asyncio.timeout(timeout):
        await runner.stopped.wait()
