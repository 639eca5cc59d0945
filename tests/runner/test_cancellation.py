"""Cancelling a running invocation: the runner stops it and records ``cancelled``, fenced."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.runner.cancellation import Canceller
from streamfn.runner.supervisor import Runner
from tests.runner.conftest import StartRunner, lines, recorder, wait_final, wait_for, write_function
from tests.runner.test_isolation import alive

HANDLERS = {
    "isolated": "import os\nISOLATE = True\ndef handle(payload, ctx):\n"
    "    record(os.getpid())\n    time.sleep(3600)\n",
    "async": "import os\nasync def handle(payload, ctx):\n"
    "    record(os.getpid())\n    await asyncio.sleep(3600)\n",
    "thread": "import os\nISOLATE = False\ndef handle(payload, ctx):\n"
    "    record(os.getpid())\n    time.sleep(1.5)\n",
}

Attach = Callable[[Runner], Canceller]


@pytest.fixture
async def attach(redis: Redis, keys: Keys) -> AsyncIterator[Attach]:
    """A second Canceller for an in-process runner (replacing one a test stopped)."""
    started: list[Canceller] = []

    def make(runner: Runner) -> Canceller:
        p = runner.parts
        canceller = Canceller(p.redis, keys, p.executor, p.leases, interval=0.2)
        started.append(canceller)
        return canceller

    yield make
    for canceller in started:
        with contextlib.suppress(Exception):
            await canceller.stop()


async def running(client: Client, inv_id: str) -> bool:
    inv = await client.get(inv_id)
    return inv is not None and inv.status == "running"


@pytest.mark.parametrize("kind", sorted(HANDLERS))
async def test_cancel_stops_a_running_invocation(
    fdir: Path,
    client: Client,
    start_runner: StartRunner,
    tmp_path: Path,
    kind: str,
) -> None:
    log = tmp_path / "started.log"
    write_function(fdir, "long", recorder(log, "RETRIES = 3\n" + HANDLERS[kind]))
    runner = await start_runner()
    canceller = runner.parts.canceller
    queued = await client.enqueue("long")
    await wait_for(lambda: bool(lines(log)), 5, "the handler to start")
    await wait_for(lambda: running(client, queued.id), 5, "running")
    asked = time.monotonic()
    assert await client.stop(queued.id) == (True, "cancelling")
    (inv,) = await wait_final(client, [queued.id], timeout=5)
    assert time.monotonic() - asked < 1.0
    assert inv.status == "cancelled"
    assert inv.attempt == 1, "a cancel is not retried"
    assert canceller.stopped == 1
    if kind == "isolated":
        pid = int(lines(log)[0][0])
        await wait_for(lambda: not alive(pid), 2, "the worker to be killed")
    assert await client.stop(queued.id) == (False, "cancelled")


async def test_a_missed_message_is_caught_by_the_sweep(
    fdir: Path,
    client: Client,
    start_runner: StartRunner,
    attach: Attach,
    tmp_path: Path,
) -> None:
    log = tmp_path / "started.log"
    write_function(fdir, "long", recorder(log, HANDLERS["async"]))
    runner = await start_runner()
    await runner.parts.canceller.stop()  # as if its pub/sub connection were down
    queued = await client.enqueue("long")
    await wait_for(lambda: running(client, queued.id), 5, "running")
    # Asked while no listener runs: only the cancels set remembers it.
    assert await client.stop(queued.id) == (True, "cancelling")
    await asyncio.sleep(0.1)
    assert (await client.get(queued.id)).status == "running"  # type: ignore[union-attr]
    await attach(runner).start()
    (inv,) = await wait_final(client, [queued.id], timeout=5)
    assert inv.status == "cancelled"


async def test_cancelling_a_finished_or_unknown_invocation_is_refused(
    fdir: Path, client: Client, start_runner: StartRunner, redis: Redis, keys: Keys
) -> None:
    write_function(fdir, "quick", "async def handle(payload, ctx):\n    return 1\n")
    await start_runner()
    queued = await client.enqueue("quick")
    await wait_final(client, [queued.id])
    assert await client.stop(queued.id) == (False, "succeeded")
    assert await client.stop("quick." + "0" * 24) == (False, "not_found")
    assert await redis.exists(keys.cancels("quick")) == 0
