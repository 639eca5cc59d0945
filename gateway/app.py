"""The application factory, the Redis-backed services it owns, and the process entry point."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import orjson
from aiohttp import web

from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.gateway.catalog import CatalogCache
from streamfn.gateway.metrics import Metrics
from streamfn.gateway.middleware import middleware
from streamfn.gateway.openapi import build_spec
from streamfn.gateway.routes import setup_routes
from streamfn.gateway.state import (
    CATALOG,
    CLIENT,
    DOCUMENT,
    METRICS,
    REDIS,
    SCHEDULES,
    SETTINGS,
    STOPPING,
)
from streamfn.gateway.stream_stats import read_stream_stats
from streamfn.keys import Keys
from streamfn.registry import Catalog
from streamfn.schedules import ScheduleStore
from streamfn.settings import Settings, SettingsError

log = logging.getLogger("streamfn.gateway")

CATALOG_INTERVAL = 0.5
"""Seconds between catalog (and stream metrics) refreshes."""
REDIS_CONNECTIONS = 64
POOL_TIMEOUT = 10.0
"""Seconds a request waits for a free Redis connection before it is answered 503."""
BACKLOG = 4096


def create_app(settings: Settings) -> web.Application:
    """The gateway application; Redis is connected when it starts, not here."""
    metrics = Metrics()
    app = web.Application(
        middlewares=[middleware(metrics)],
        client_max_size=settings.max_body,
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[STOPPING] = asyncio.Event()
    app[DOCUMENT] = orjson.dumps(build_spec(settings))
    setup_routes(app)
    app.cleanup_ctx.append(_services)
    app.on_shutdown.append(_answer_waiters)
    return app


async def _answer_waiters(app: web.Application) -> None:
    """On shutdown, wake every waiting request so it answers 202 instead of being cut off."""
    app[STOPPING].set()
    if CLIENT in app:
        app[CLIENT].waiters.wake_all()


async def _services(app: web.Application) -> AsyncIterator[None]:
    """Owns the Redis pool, the client (and its waiter hub), the catalog refresher and the
    schedule store."""
    settings, metrics = app[SETTINGS], app[METRICS]
    keys = Keys(settings.namespace)
    redis = make_redis(settings, max_connections=REDIS_CONNECTIONS, pool_timeout=POOL_TIMEOUT)
    client = Client(redis, settings)

    async def refresh_stream_metrics(catalog: Catalog) -> None:
        metrics.set_streams(await read_stream_stats(redis, keys, list(catalog.functions)))

    catalog = CatalogCache(
        redis,
        keys,
        interval=CATALOG_INTERVAL,
        on_refresh=refresh_stream_metrics,
        functions_dir=str(settings.functions_dir),
    )
    try:
        await client.start()
        await catalog.start()
        metrics.track_waiters(client.waiters)
        app[REDIS], app[CLIENT], app[CATALOG] = redis, client, catalog
        app[SCHEDULES] = ScheduleStore(redis, keys)
        yield
    finally:
        await catalog.stop()
        await client.close()
        await redis.aclose()


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
        # A deep accept queue: a burst of new connections must not wait on SYN retries.
        site = web.TCPSite(runner, settings.host, settings.port, backlog=BACKLOG)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def serve(settings: Settings, *, access_log: bool = False) -> None:
    """Serve until SIGINT or SIGTERM, then let requests drain for ``shutdown_grace`` s."""
    runner = await start(settings, access_log=access_log)
    try:
        host, port = runner.addresses[0][:2]
        log.info("gateway listening on http://%s:%d (namespace %s)", host, port, settings.namespace)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("gateway stopping")
    finally:
        await runner.cleanup()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # not available on every platform; asyncio's loop works too
        return None
    return uvloop.new_event_loop


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number from 0 to 65535")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the gateway; settings come from ``STREAMFN_*``, flags override host and port."""
    parser = argparse.ArgumentParser(
        prog="streamfn gateway",
        description="Run the HTTP gateway. Settings come from STREAMFN_* variables.",
    )
    parser.add_argument("--host", help="bind address (default: STREAMFN_HOST)")
    parser.add_argument("--port", type=_port, help="port, 0 for any (default: STREAMFN_PORT)")
    parser.add_argument("--access-log", action="store_true", help="log every request (slower)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"streamfn gateway: {exc}", file=sys.stderr)
        return 2
    if args.host is not None:
        settings = replace(settings, host=args.host)
    if args.port is not None:
        settings = replace(settings, port=args.port)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with asyncio.Runner(loop_factory=_loop_factory()) as loop_runner:
        loop_runner.run(serve(settings, access_log=args.access_log))
    return 0
