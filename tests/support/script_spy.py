"""A spy on the script loader: which script ran with which KEYS (the hash-slot tests use it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from redis.asyncio import Redis

from streamfn import scripts
from streamfn.scripts import Script

Calls = list[tuple[str, list[str]]]
Call = tuple[Sequence[str], Sequence[Any]]


def record_script_calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Patch single (``Script.run``) and pipelined (``run_batch``) calls; returns the record."""
    calls: Calls = []
    run, send = Script.run, scripts._send

    async def spy_run(self: Script, redis: Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        calls.append((self.name, list(keys)))
        return await run(self, redis, keys, args)

    async def spy_send(
        redis: Redis, script: Script, batch: Sequence[Call], *tail: bytes
    ) -> list[Any]:
        calls.extend((script.name, list(keys)) for keys, _ in batch)
        return await send(redis, script, batch, *tail)

    monkeypatch.setattr(Script, "run", spy_run)
    monkeypatch.setattr(scripts, "_send", spy_send)
    return calls
