"""The load client: POST invocations through the gateway and keep the history.

Every answer is recorded; an invocation counts as acknowledged only when the gateway answered
202 with its id.  Connection failures are counted apart from HTTP statuses.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass
class History:
    """What the client saw: acknowledged ids (with due time), statuses over time."""

    acked: dict[str, float | None] = field(default_factory=dict)
    acked_at: dict[str, float] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    timeline: list[tuple[float, int]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # "<status> <error code>" of refusals

    def five_hundreds(self) -> dict[int, int]:
        return {s: n for s, n in self.statuses.items() if s >= 500}


class Load:
    """Sends invocations to one gateway, at most ``concurrency`` at a time."""

    def __init__(self, url: str, function: str = "probe", *, concurrency: int = 64) -> None:
        self.url = url
        self.function = function
        self.history = History()
        self._sem = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Load:
        timeout = aiohttp.ClientTimeout(total=30)
        self._session = aiohttp.ClientSession(timeout=timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def invoke(self, payload: Any = None, *, delay: float = 0.0) -> str | None:
        """One POST; the id when acknowledged (202), else None."""
        assert self._session is not None
        query = f"?delay={delay}" if delay else ""
        async with self._sem:
            sent = time.time()
            try:
                async with self._session.post(
                    f"{self.url}/invoke/{self.function}{query}", json=payload
                ) as r:
                    status = r.status
                    body = await r.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.history.errors[type(exc).__name__] += 1
                return None
        self.history.statuses[status] += 1
        self.history.timeline.append((time.time(), status))
        self.history.latencies.append(time.time() - sent)
        if status != 202:
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            self.history.codes[f"{status} {code}"] += 1
            return None
        inv: str = body["id"]
        self.history.acked[inv] = sent + delay if delay else None
        self.history.acked_at[inv] = time.time()
        return inv

    async def many(self, count: int, payload: Any = None) -> list[str | None]:
        return await asyncio.gather(*(self.invoke(payload) for _ in range(count)))

    async def steady(self, rate: float, seconds: float, payload: Any = None) -> None:
        """About ``rate`` invocations per second for ``seconds`` (bounded by concurrency)."""
        tasks: list[asyncio.Task[str | None]] = []
        end = time.monotonic() + seconds
        interval = 1.0 / rate
        while time.monotonic() < end:
            tasks.append(asyncio.create_task(self.invoke(payload)))
            await asyncio.sleep(interval)
        await asyncio.gather(*tasks)
