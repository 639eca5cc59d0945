"""A live gateway process for the fuzzers: real HTTP on a loopback port, function ``echo`` known.

No runner runs: a runner report is published by hand so the gateway knows ``echo``, and what
it accepts stays in the stream, where the tests can count it.  Synchronous fixtures, since
schemathesis and the raw-socket cases are synchronous clients.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as sync_redis

from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.launch import Child, spawn_gateway
from streamfn.registry import RunnerReport, publish
from streamfn.settings import Settings
from tests.fault.tiers import pytest_collection_modifyitems, pytest_configure
from tests.support.procs import ROOT, env_for

__all__ = ["Live", "pytest_collection_modifyitems", "pytest_configure"]

KNOWN = "echo"
POLICY = {"timeout": 60.0, "retries": 3, "kind": "async"}


@dataclass
class Live:
    """The gateway's base URL and a view of the keys its namespace holds."""

    url: str
    settings: Settings
    redis: sync_redis.Redis
    proc: Child

    @property
    def keys(self) -> Keys:
        return Keys(self.settings.namespace)

    def key_count(self) -> int:
        """Keys of this namespace (runner registry included)."""
        ns = self.settings.namespace
        return sum(1 for p in (f"{{{ns}:*", f"{ns}:*") for _ in self.redis.scan_iter(p, 1000))

    def enqueued(self) -> int:
        return int(self.redis.xlen(self.keys.stream(KNOWN)))


async def _publish(settings: Settings) -> None:
    client = make_redis(settings)
    try:
        report = RunnerReport("fuzz", {KNOWN: dict(POLICY)}, {}, "fuzz", 1, 10)
        await publish(client, Keys.of(settings), report, ttl_s=3600, now_ms=int(time.time() * 1000))
    finally:
        await client.aclose()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/functions", timeout=1) as r:
            return KNOWN.encode() in r.read()
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def live(settings: Settings, tmp_path: Path) -> Iterator[Live]:
    asyncio.run(_publish(settings))
    proc = spawn_gateway(env_for(settings), tmp_path, cwd=ROOT)
    client = sync_redis.Redis.from_url(settings.redis_url)
    try:
        deadline = time.monotonic() + 20
        while not _healthy(proc.url):
            assert proc.alive(), proc.output()[-2000:]
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.05)
        yield Live(proc.url, settings, client, proc)
    finally:
        proc.stop()
        ns = settings.namespace
        for pattern in (f"{{{ns}:*", f"{ns}:*"):
            keys = list(client.scan_iter(pattern, 1000))
            if keys:
                client.unlink(*keys)
        client.close()
