"""Running the ``streamfn`` command as a child process in tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from streamfn.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a ``python -m streamfn`` child: no STREAMFN_* of ours leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFN_")}
    env.update(
        STREAMFN_REDIS_URL=settings.redis_url,
        STREAMFN_NAMESPACE=settings.namespace,
        STREAMFN_FUNCTIONS_DIR=str(settings.functions_dir),
        STREAMFN_RUNNER_METRICS_PORT="0",
        STREAMFN_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run_streamfn(
    *args: str, env: dict[str, str], timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """``python -m streamfn ARGS`` to completion, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "streamfn", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
