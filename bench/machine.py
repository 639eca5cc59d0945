"""What the figures were measured on: CPU, cores, memory, Python, Redis, commit, load."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.nodes import masters
from streamfn.connection import AnyRedis

ROOT = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


async def describe(redis: AnyRedis) -> dict[str, Any]:
    """The machine record stored with every result."""
    info: dict[str, Any] = await redis.info("server")
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _mem_total_gib(),
        "load_average": list(os.getloadavg()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "redis_version": str(info.get("redis_version", "unknown")),
        "redis_io_threads": info.get("io_threads_active"),
        "redis_masters": len(await masters(redis)),
        "commit": _git("rev-parse", "HEAD"),
        "dirty_tree": bool(status) if status is not None else None,
        "packages": _versions(["redis", "hiredis", "aiohttp", "uvloop", "orjson"]),
    }


def _versions(names: list[str]) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
