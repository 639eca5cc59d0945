"""Real gateway, runner and scheduler processes for end-to-end tests, started by
:mod:`streamfn.launch` (the launcher ``streamfn dev`` and the bench use) and stopped by pid."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from streamfn.launch import (
    Child,
    ChildExited,
    NotReady,
    await_ready,
    spawn_gateway,
    spawn_runner,
    spawn_scheduler,
)
from streamfn.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a child needs for ``settings``, without the caller's STREAMFN_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFN_")}
    env.update(
        STREAMFN_REDIS_URL=settings.redis_url,
        STREAMFN_NAMESPACE=settings.namespace,
        STREAMFN_FUNCTIONS_DIR=str(settings.functions_dir),
        STREAMFN_VISIBILITY_TIMEOUT=str(settings.visibility_timeout),
        STREAMFN_CLAIM_INTERVAL=str(settings.claim_interval),
        STREAMFN_SHUTDOWN_GRACE=str(settings.shutdown_grace),
        STREAMFN_RUNNER_METRICS_PORT="0",
        STREAMFN_HOST="127.0.0.1",
        STREAMFN_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def start_runner(settings: Settings, log_dir: Path, *args: str, **extra: str) -> Child:
    """``streamfn runner ARGS`` for ``settings``; its output goes to a file in ``log_dir``."""
    return spawn_runner(env_for(settings, **extra), log_dir, *args, cwd=ROOT)


def start_scheduler(settings: Settings, log_dir: Path, **extra: str) -> Child:
    """``streamfn scheduler`` for ``settings``; its output goes to a file in ``log_dir``."""
    return spawn_scheduler(env_for(settings, **extra), log_dir, cwd=ROOT)


async def start_gateway(settings: Settings, log_dir: Path, **extra: str) -> Child:
    """``streamfn gateway`` on a free port, returned once ``/healthz`` answers 200."""
    proc = spawn_gateway(env_for(settings, **extra), log_dir, cwd=ROOT)
    try:
        await await_ready(proc, timeout=15)
    except (NotReady, ChildExited) as exc:
        raise AssertionError(f"gateway healthz: {exc}") from None
    return proc


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, *, interval: float = 0.02, what: str = ""
) -> float:
    """Poll ``check`` until true; returns the seconds it took, fails the test on timeout."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if await check():
            return time.monotonic() - start
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        await asyncio.sleep(interval)
