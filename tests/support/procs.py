"""Real gateway and runner processes for end-to-end tests, stopped by pid."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from streamfn.settings import Settings
from tests.support.redis_server import free_port

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


@dataclass
class Proc:
    """A child we started; only ever signalled by its own pid."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def spawn(name: str, module: str, env: dict[str, str], log_dir: Path, *args: str) -> Proc:
    log = log_dir / f"{name}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return Proc(name, popen, log)


def start_runner(settings: Settings, log_dir: Path, *args: str, **extra: str) -> Proc:
    return spawn("runner", "streamfn.runner", env_for(settings, **extra), log_dir, *args)


async def start_gateway(settings: Settings, log_dir: Path, **extra: str) -> Proc:
    port = free_port()
    proc = spawn(
        "gateway", "streamfn.gateway", env_for(settings, STREAMFN_PORT=str(port), **extra), log_dir
    )
    proc.port = port
    async with aiohttp.ClientSession() as http:

        async def healthy() -> bool:
            try:
                async with http.get(f"{proc.url}/healthz") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await wait_until(healthy, 15, what=f"gateway healthz (log: {proc.output()[-2000:]})")
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
