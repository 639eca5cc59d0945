"""Run one peer's adapter in its own install and return the JSON line it prints.

The adapter gets the bench's private redis-server with the peer's own database number
(``BENCH_PEER_REDIS_URL``), which it FLUSHDBs before starting, and N (``BENCH_PEER_N``).
Anything that goes wrong comes back as ``{"ok": false, "error": ...}``; nothing raises.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.peers.specs import PeerSpec
from bench.peers.venvs import PeerUnavailable, ensure

ROOT = Path(__file__).resolve().parent.parent.parent
ADAPTERS = Path(__file__).resolve().parent / "adapters"


def _env(spec: PeerSpec, redis_url: str, n: int, home: Path) -> dict[str, str]:
    drop = ("STREAMFN_", "VIRTUAL_ENV", "PYTHONHOME", "NODE_PATH", "BENCH_PEER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(BENCH_PEER_REDIS_URL=redis_url, BENCH_PEER_N=str(n), PYTHONPATH=str(ROOT))
    if spec.kind == "node":
        env["NODE_PATH"] = str(home / "node_modules")
    return env


def run_peer(spec: PeerSpec, redis_url: str, n: int, timeout: float = 900.0) -> dict[str, Any]:
    """Install if needed, run once, return the adapter's figures (or why there are none)."""
    base = {"peer": spec.name, "label": spec.label, "settings": spec.settings}
    try:
        target = ensure(spec)
    except PeerUnavailable as exc:
        return {**base, "ok": False, "missing": True, "error": str(exc)}
    if spec.kind == "python":
        args = [str(target), "-m", spec.adapter]
        home = target.parent.parent.parent
    else:
        node = shutil.which("node")
        if node is None:
            return {**base, "ok": False, "missing": True, "error": "node is not on PATH"}
        args = [node, str(ADAPTERS / f"{spec.name}_peer.cjs"), "drive"]
        home = target
    with tempfile.TemporaryDirectory(prefix=f"bench-peer-{spec.name}-") as cwd:
        try:
            done = subprocess.run(
                args,
                cwd=cwd,
                env=_env(spec, redis_url, n, home),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {**base, "ok": False, "error": f"no result within {timeout:.0f}s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-4:])
        return {**base, "ok": False, "error": f"adapter exited {done.returncode}: {tail}"}
    try:
        out: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        return {**base, "ok": False, "error": f"unreadable adapter output: {exc}"}
    return {**base, **out}
