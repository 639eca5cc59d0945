"""Stopping a background task for sure: the one way every loop of ours is stopped."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("streamfn")


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` until it has ended.

    One ``cancel()`` is not always enough: a cancellation that coincides with an inner result
    can be lost (Python 3.11's ``wait_for``, which redis-py sends commands through, returns the
    result instead), and a loop that loses it runs on and hangs whoever awaits it.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    if not task.cancelled() and task.exception() is not None:
        log.error("%s ended with an error", task.get_name(), exc_info=task.exception())
