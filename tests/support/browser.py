"""Debian's Chromium, headless, for the tests that look at a page as a user would.

``make test`` installs the ``chromium`` package when it is missing.  Each call starts one
browser process with a profile in a temporary directory, waits for it within a bound, and
kills it by pid if it overstays.  ``--virtual-time-budget`` lets the page's scripts and
fetches finish before the DOM is dumped or the screenshot taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

TIMEOUT_S = 60.0
BUDGET_MS = 5000


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "chromium not found: `make test` installs Debian's chromium package"
    return path


async def _run(profile: Path, *args: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={BUDGET_MS}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise AssertionError(f"chromium did not finish within {TIMEOUT_S:g} s") from None
    assert proc.returncode == 0, f"chromium exited {proc.returncode}"
    return out


async def rendered_dom(url: str, profile: Path) -> str:
    """The page's DOM once its scripts ran, as HTML."""
    return (await _run(profile, "--dump-dom", url)).decode()


async def screenshot(url: str, out: Path, profile: Path, size: str = "1280,1600") -> Path:
    """A PNG of the page at ``size`` (width,height) once its scripts ran."""
    await _run(profile, f"--screenshot={out}", f"--window-size={size}", url)
    written = await asyncio.to_thread(lambda: out.is_file() and out.stat().st_size > 0)
    assert written, "no screenshot written"
    return out
