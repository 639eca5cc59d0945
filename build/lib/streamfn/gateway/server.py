"""Serving the gateway application on a TCP port until told to stop, then draining.

No signal handling here: the process that serves (``streamfn gateway``) decides what stops
it and sets the event :func:`serve` waits on.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from streamfn.gateway.app import create_app
from streamfn.settings import Settings

log = logging.getLogger("streamfn.gateway")

BACKLOG = 4096
"""The listen queue: a burst of new connections must not wait on SYN retries."""


async def start(settings: Settings, *, access_log: bool = False) -> web.AppRunner:
    """Start serving on ``settings.host``/``port``; ``runner.addresses`` holds the bound port.

    The caller owns the runner and must ``await runner.cleanup()``.
    """
    runner = web.AppRunner(
        create_app(settings),
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
        handle_signals=False,
        shutdown_timeout=settings.shutdown_grace,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, backlog=BACKLOG)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def serve(settings: Settings, stop: asyncio.Event, *, access_log: bool = False) -> None:
    """Serve until ``stop`` is set, then let requests drain for ``shutdown_grace`` s."""
    runner = await start(settings, access_log=access_log)
    try:
        host, port = runner.addresses[0][:2]
        log.info("gateway listening on http://%s:%d (namespace %s)", host, port, settings.namespace)
        await stop.wait()
        log.info("gateway stopping")
    finally:
        await runner.cleanup()
