"""Typed keys of what the application holds: settings, metrics, and the Redis-backed services.

``SETTINGS``, ``METRICS`` and ``DOCUMENT`` are set by :func:`gateway.app.create_app`; the rest
by its cleanup context once the application starts.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from streamfn.client import Client
from streamfn.connection import AnyRedis
from streamfn.gateway.auth import Authenticator
from streamfn.gateway.catalog import CatalogCache
from streamfn.gateway.metrics import Metrics
from streamfn.schedules import ScheduleStore
from streamfn.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
DOCUMENT = web.AppKey("document", bytes)
"""``GET /openapi.json``: the OpenAPI document as JSON (``gateway/openapi.py``)."""
REDIS: web.AppKey[AnyRedis] = web.AppKey("redis")
CLIENT = web.AppKey("client", Client)
CATALOG = web.AppKey("catalog", CatalogCache)
SCHEDULES = web.AppKey("schedules", ScheduleStore)
AUTH = web.AppKey("auth", Authenticator)
"""The tokens in force and the start-up decision (``gateway/auth.py``)."""
STOPPING = web.AppKey("stopping", asyncio.Event)
"""Set when shutdown begins: waiting requests answer with the current status at once."""
