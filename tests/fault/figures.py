"""Where the fault scenarios leave their figures: one JSON object, one entry per scenario.

Each test records its figures before it asserts, so a failing run still shows what happened.
``python -m tests.fault.report`` renders them into ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIGURES = Path(os.environ.get("FAULT_FIGURES", str(ROOT / ".fault" / "figures.json")))


def _redis_version() -> str:
    try:
        out = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return next((w.split("=")[1] for w in out.split() if w.startswith("v=")), "unknown")


def load(path: Path = FIGURES) -> dict[str, Any]:
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def record(
    scenario: str,
    *,
    title: str,
    fault: str,
    expectation: str,
    tier: str = "fast",
    **figures: Any,
) -> dict[str, Any]:
    """Merge one scenario's row into the figures file and return it."""
    row = {
        "scenario": scenario,
        "title": title,
        "fault": fault,
        "expectation": expectation,
        "tier": tier,
        "figures": figures,
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "redis": _redis_version(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    data = load()
    data[f"{scenario}:{tier}"] = row
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    tmp = FIGURES.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(FIGURES)
    return row
