"""Serving the app: ``start`` owns and releases its services, ``serve`` runs until its stop
event, and a shutdown answers the requests still waiting."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

import aiohttp

from streamfn.gateway.server import serve, start
from streamfn.gateway.state import CATALOG, CLIENT, REDIS
from streamfn.settings import Settings
from tests.support.procs import wait_until


async def test_start_owns_and_releases_services(settings: Settings) -> None:
    runner = await start(settings)
    try:
        app = runner.app
        assert app[CATALOG].healthy
        assert app[CLIENT].redis is app[REDIS]
        host, port = runner.addresses[0][:2]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{host}:{port}/healthz") as response,
        ):
            assert response.status == 200
    finally:
        await runner.cleanup()


async def test_shutdown_answers_waiting_requests(
    settings: Settings, known: tuple[str, ...]
) -> None:
    """A deploy must not cut off a client waiting on ?wait=: it gets a 202 to poll with."""
    runner = await start(replace(settings, shutdown_grace=30))
    host, port = runner.addresses[0][:2]
    hub = runner.app[CLIENT].waiters
    async with aiohttp.ClientSession() as session:

        async def call(path: str) -> tuple[int, Any]:
            async with session.request(
                "POST" if path.startswith("/invoke") else "GET", f"http://{host}:{port}{path}"
            ) as response:
                return response.status, await response.json()

        _, first = await call("/invoke/slow")
        polled = asyncio.create_task(call(f"/invocations/{first['id']}?wait=60"))
        invoked = asyncio.create_task(call("/invoke/slow?wait=60"))

        async def two_waiting() -> bool:
            return hub.waiting == 2

        await wait_until(two_waiting, 10, what="both requests to wait")
        started = time.monotonic()
        await runner.cleanup()
        assert time.monotonic() - started < 10
        status, body = await invoked
        assert (status, body["status"]) == (202, "queued")
        status, body = await polled
        assert (status, body["status"]) == (200, "queued")


async def test_serve_runs_until_its_stop_event(settings: Settings) -> None:
    """No signal handling of its own: the caller's event stops it, and it cleans up."""
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(replace(settings, host="127.0.0.1"), stop))
    await asyncio.sleep(0.2)
    assert not serving.done()
    stop.set()
    await asyncio.wait_for(serving, 10)
