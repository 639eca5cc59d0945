"""Playwright for Python driving Debian's Chromium (no browser download): the dashboard tests.

``make test`` installs the ``chromium`` package; the ``playwright`` package (a dev
dependency) brings only its driver here, pointed at that executable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Browser, async_playwright

from tests.support.browser import chromium


@asynccontextmanager
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()
