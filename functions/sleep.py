"""sleep: sleeps ``payload["seconds"]`` (default 1), then returns how long it slept."""

import asyncio
from typing import Any

from streamfn import Context

TIMEOUT = 300


async def handle(payload: Any, ctx: Context) -> Any:
    seconds = float((payload or {}).get("seconds", 1))
    await asyncio.sleep(seconds)
    return {"slept": seconds}
