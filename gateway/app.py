"""The application factory and the Redis-backed services it owns.

Serving it is :mod:`streamfn.gateway.server`; the ``streamfn gateway`` command
(:mod:`streamfn.cli.serve_cmd`) owns the process: arguments, logging, signals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import orjson
from aiohttp import web

from streamfn.auth_plan import plan_auth
from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.gateway import auth
from streamfn.gateway.access import access_of, check_table
from streamfn.gateway.catalog import CatalogCache
from streamfn.gateway.metrics import Metrics
from streamfn.gateway.middleware import middleware
from streamfn.gateway.openapi import build_spec
from streamfn.gateway.routes import ROUTES, setup_routes
from streamfn.gateway.state import (
    AUTH,
    CATALOG,
    CLIENT,
    DOCUMENT,
    METRICS,
    REDIS,
    SCHEDULES,
    SETTINGS,
    STOPPING,
)
from streamfn.gateway.token_watch import TokenFileWatcher
from streamfn.keys import Keys
from streamfn.registry import Catalog
from streamfn.schedules import ScheduleStore
from streamfn.settings import Settings
from streamfn.stream_stats import StreamStat, read_stream_stats

log = logging.getLogger("streamfn.gateway")

CATALOG_INTERVAL = 0.5
"""Seconds between catalog refreshes."""
REDIS_CONNECTIONS = 64
POOL_TIMEOUT = 10.0
"""Seconds a request waits for a free Redis connection before it is answered 503."""


def create_app(settings: Settings) -> web.Application:
    """The gateway application; Redis is connected when it starts, not here.

    Whether it checks tokens is decided here (``streamfn/auth_plan.py``): AuthRefused, a
    SettingsError, when it must not start with these settings.
    """
    check_table(ROUTES)
    plan = plan_auth(settings)
    if plan.warning is not None:
        log.warning("%s", plan.warning)
    authenticator = auth.Authenticator(plan)
    metrics = Metrics()
    app = web.Application(
        middlewares=[middleware(metrics)],
        client_max_size=settings.max_body,
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[STOPPING] = asyncio.Event()
    app[AUTH] = authenticator
    app[DOCUMENT] = orjson.dumps(build_spec(settings, enforced=plan.enforced))
    setup_routes(
        app,
        lambda route: auth.handler_for(route, access_of(route), authenticator, settings),
    )
    app.cleanup_ctx.append(_services)
    if plan.file is not None:
        app.cleanup_ctx.append(partial(_watch_tokens, plan.file))
    app.on_shutdown.append(_answer_waiters)
    return app


async def _answer_waiters(app: web.Application) -> None:
    """On shutdown, wake every waiting request so it answers 202 instead of being cut off."""
    app[STOPPING].set()
    if CLIENT in app:
        app[CLIENT].waiters.wake_all()


async def _watch_tokens(path: Path, app: web.Application) -> AsyncIterator[None]:
    """Re-reads the tokens file while the gateway runs (``gateway/token_watch.py``)."""
    watcher = TokenFileWatcher(app[AUTH], path)
    await watcher.start()
    try:
        yield
    finally:
        await watcher.stop()


async def _services(app: web.Application) -> AsyncIterator[None]:
    """Owns the Redis pool, the client (and its waiter hub), the catalog refresher and the
    schedule store."""
    settings, metrics = app[SETTINGS], app[METRICS]
    keys = Keys.of(settings)
    redis = make_redis(settings, max_connections=REDIS_CONNECTIONS, pool_timeout=POOL_TIMEOUT)
    client = Client(redis, settings)

    async def learn_partitions(catalog: Catalog) -> None:
        client.set_partitions(catalog.functions)

    catalog = CatalogCache(
        redis,
        keys,
        interval=CATALOG_INTERVAL,
        on_refresh=learn_partitions,
        functions_dir=str(settings.functions_dir),
        retention_s=settings.deployed_retention,
    )

    async def read_streams() -> dict[str, StreamStat]:  # at each scrape, not on a clock
        queues = [q for fn in catalog.functions for q in client.queues(fn)]
        return await read_stream_stats(redis, keys, queues)

    metrics.read_streams_with(read_streams)
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
