"""echo: returns its payload unchanged."""

from typing import Any

from streamfn import Context


async def handle(payload: Any, ctx: Context) -> Any:
    return payload
