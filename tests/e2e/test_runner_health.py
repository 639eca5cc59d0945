"""A runner process's probes while its own Redis is healthy, stalled (SIGSTOP) and down.

Ready (``/readyz``) must turn 503 within :data:`~streamfn.runner.health.READY_WITHIN_S` of the
last answered read once Redis stops answering, and come back once it answers again; alive
(``/healthz``) must stay 200 through it all, since the read loop keeps going round (timed-out
or refused reads, then backoff) and a restart would not bring Redis back.  The time to 503 is
printed as a figure; the bound it is checked against has a second of slack for a loaded box.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from streamfn.launch import Child, PrivateRedis, free_port
from streamfn.runner.health import READY_WITHIN_S
from streamfn.runner.metrics_server import LIVENESS_PATH, READINESS_PATH
from streamfn.settings import Settings
from tests.support.procs import start_runner, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.single_node]

SLACK_S = 1.0
ECHO = "async def handle(payload, ctx):\n    return payload\n"


@pytest.fixture
def own_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test alone: it is paused and killed (by pid)."""
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        if server.child is not None and server.child.alive():
            server.child.resume()  # a SIGSTOPped server would not hear the SIGTERM
        server.stop(grace=5)


@pytest.fixture
async def runner(
    settings: Settings, own_redis: PrivateRedis, tmp_path: Path
) -> AsyncIterator[tuple[Child, int]]:
    (Path(settings.functions_dir) / "echo.py").write_text(ECHO)
    port = free_port()
    use = replace(settings, redis_url=own_redis.url)
    proc = start_runner(use, tmp_path, STREAMFN_RUNNER_METRICS_PORT=str(port))
    try:
        yield proc, port
    finally:
        proc.stop()


async def status(http: aiohttp.ClientSession, port: int, path: str) -> int:
    async with http.get(
        f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(total=2)
    ) as response:
        return response.status


class Watch:
    """Samples /healthz every 100 ms in the background: every answer it got."""

    def __init__(self, http: aiohttp.ClientSession, port: int) -> None:
        self.seen: list[int] = []
        self._task = asyncio.create_task(self._run(http, port))

    async def _run(self, http: aiohttp.ClientSession, port: int) -> None:
        while True:
            self.seen.append(await status(http, port, LIVENESS_PATH))
            await asyncio.sleep(0.1)

    async def stop(self) -> list[int]:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.seen


async def time_to_unready(http: aiohttp.ClientSession, port: int) -> float:
    """Seconds until /readyz answers 503, failing past the bound (plus slack)."""

    async def unready() -> bool:
        return await status(http, port, READINESS_PATH) == 503

    return await wait_until(unready, READY_WITHIN_S + SLACK_S, what="/readyz 503")


async def ready_again(http: aiohttp.ClientSession, port: int, timeout: float) -> float:
    async def ready() -> bool:
        return await status(http, port, READINESS_PATH) == 200

    return await wait_until(ready, timeout, what="/readyz 200 again")


async def test_ready_follows_redis_and_alive_stays_up(
    runner: tuple[Child, int], own_redis: PrivateRedis
) -> None:
    proc, port = runner
    assert own_redis.child is not None
    async with aiohttp.ClientSession() as http:

        async def both_ok() -> bool:
            try:
                codes = [await status(http, port, p) for p in (LIVENESS_PATH, READINESS_PATH)]
            except aiohttp.ClientError:
                return False  # not listening yet
            return codes == [200, 200]

        await wait_until(both_ok, 20, what="a healthy runner: /healthz and /readyz 200")
        watch = Watch(http, port)

        # Stalled: SIGSTOP.  Reads hang until their socket timeout, then fail and retry.
        own_redis.child.pause()
        stalled = time.monotonic()
        try:
            to_503 = await time_to_unready(http, port)
            await asyncio.sleep(8)  # past the read's socket timeout: rounds fail and go on
        finally:
            own_redis.child.resume()
        back = await ready_again(http, port, 15)
        print(f"\nSIGSTOP: /readyz 503 after {to_503:.2f} s; 200 again {back:.2f} s after SIGCONT")
        stall_s = time.monotonic() - stalled

        # Down: killed.  Reads are refused at once and retried with backoff.
        own_redis.kill()
        to_503_down = await time_to_unready(http, port)
        await asyncio.sleep(3)
        own_redis.start()
        back_down = await ready_again(http, port, 15)
        print(f"killed: /readyz 503 after {to_503_down:.2f} s; 200 again {back_down:.2f} s later")
        seen = await watch.stop()

    assert proc.alive(), proc.log_tail()
    assert seen and set(seen) == {200}, f"/healthz answered {sorted(set(seen))} over {stall_s:.0f}s"
