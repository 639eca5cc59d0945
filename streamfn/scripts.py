"""The one loader of ``lua/*.lua``: EVALSHA, reloading after a SCRIPT FLUSH or restart."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError, ResponseError

Arg = Any  # str | bytes | int | float; Any so mixed argument lists need no casts


@dataclass(frozen=True, slots=True)
class Script:
    """One Lua file: its name, source and SHA1."""

    name: str
    source: str
    sha: str

    async def run(self, redis: Redis, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """EVALSHA; on NOSCRIPT (script cache flushed, Redis restarted) load it and retry once."""
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.source)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)

    def queue(self, pipe: Pipeline, keys: Sequence[str], args: Sequence[Arg]) -> None:
        """Add an EVALSHA to a pipeline; :func:`run_pipeline` handles NOSCRIPT replies."""
        pipe.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)


def _is_noscript(value: object) -> bool:
    return isinstance(value, NoScriptError) or (
        isinstance(value, ResponseError) and str(value).startswith("NOSCRIPT")
    )


async def run_batch(
    redis: Redis, script: Script, calls: Sequence[tuple[Sequence[str], Sequence[Arg]]]
) -> list[Any]:
    """Run many calls of one script in one pipelined round trip.

    A NOSCRIPT reply means that call did not run, so those calls alone are retried after the
    script is loaded.  Other errors are returned in place, as exception values.
    """
    if not calls:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for keys, args in calls:
            script.queue(pipe, keys, args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
    retry = [i for i, r in enumerate(results) if _is_noscript(r)]
    if retry:
        await redis.script_load(script.source)
        async with redis.pipeline(transaction=False) as pipe:
            for i in retry:
                script.queue(pipe, *calls[i])
            again: list[Any] = await pipe.execute(raise_on_error=False)
        for i, value in zip(retry, again, strict=True):
            results[i] = value
    return results


def _load(name: str) -> Script:
    source = resources.files("lua").joinpath(f"{name}.lua").read_text(encoding="utf-8")
    return Script(name, source, hashlib.sha1(source.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class ScriptSet:
    """Every script, loaded once per process."""

    enqueue: Script
    promote: Script
    complete: Script
    fail: Script
    cancel: Script
    cancel_running: Script
    cancel_done: Script
    replay: Script
    extend: Script
    reclaim: Script
    release: Script
    watch: Script
    schedule_upsert: Script
    schedule_delete: Script
    schedule_pause: Script
    schedule_resume: Script
    schedule_fire: Script

    @classmethod
    def load(cls) -> ScriptSet:
        names = cls.__dataclass_fields__.keys()
        return cls(**{name: _load(name) for name in names})


SCRIPTS = ScriptSet.load()
