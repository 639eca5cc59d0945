"""Per-peer install caches under ``bench/.peers/<peer>/`` (git-ignored), created on first use.

Python peers get ``venv/`` with their pinned requirements; BullMQ gets ``node_modules/`` from
``npm install``.  A stamp file records what was installed, so a changed pin reinstalls and an
unchanged one costs nothing.  Failures raise :class:`PeerUnavailable` with the reason, which
the report shows instead of a figure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench.peers.specs import PeerSpec

CACHE = Path(__file__).resolve().parent.parent / ".peers"
INSTALL_TIMEOUT = 900.0


class PeerUnavailable(RuntimeError):
    """The peer cannot be installed or run here; the message says why."""


def _run(args: list[str], cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(
            args, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(f"`{' '.join(args[:3])} ...` failed: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PeerUnavailable(
            f"`{' '.join(args[:4])} ...` exited {done.returncode}: {' | '.join(tail)}"
        )


def ensure(spec: PeerSpec, cache: Path = CACHE) -> Path:
    """Install ``spec`` if needed; returns the interpreter (Python) or the cache dir (Node)."""
    home = cache / spec.name
    stamp = home / ".installed"
    wanted = "\n".join(spec.requirements)
    target = home / ("venv/bin/python" if spec.kind == "python" else "node_modules")
    if stamp.exists() and stamp.read_text() == wanted and target.exists():
        return target if spec.kind == "python" else home
    home.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    if spec.kind == "python":
        shutil.rmtree(home / "venv", ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(home / "venv")])
        _run(
            [
                str(target),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *spec.requirements,
            ]
        )
    else:
        npm = shutil.which("npm")
        if shutil.which("node") is None or npm is None:
            raise PeerUnavailable("node/npm not on PATH (install nodejs and npm to measure it)")
        (home / "package.json").write_text('{"name": "bench-peer", "private": true}\n')
        _run([npm, "install", "--no-audit", "--no-fund", "--silent", *spec.requirements], home)
    stamp.write_text(wanted)
    return target if spec.kind == "python" else home


def installed_versions(spec: PeerSpec, cache: Path = CACHE) -> str:
    """The pins actually installed, for the machine record."""
    stamp = cache / spec.name / ".installed"
    return ", ".join(stamp.read_text().splitlines()) if stamp.exists() else "not installed"
