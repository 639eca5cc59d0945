"""The one loader of ``lua/*.lua``: EVALSHA, reloading after a SCRIPT FLUSH or restart."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from streamfn import resp

Arg = Any  # str | bytes | int | float; Any so mixed argument lists need no casts


@dataclass(frozen=True, slots=True)
class Script:
    """One Lua file: its name, source and SHA1."""

    name: str
    source: str
    sha: str
    head: bytes
    """``EVALSHA <sha>`` encoded once, the prefix of every pipelined call."""

    async def run(self, redis: Redis, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """EVALSHA; on NOSCRIPT (script cache flushed, Redis restarted) load it and retry once."""
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.source)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)


def _is_noscript(value: object) -> bool:
    return isinstance(value, NoScriptError) or (
        isinstance(value, ResponseError) and str(value).startswith("NOSCRIPT")
    )


async def run_batch(
    redis: Redis, script: Script, calls: Sequence[tuple[Sequence[str], Sequence[Arg]]]
) -> list[Any]:
    """Run many calls of one script in one pipelined round trip (:mod:`streamfn.resp`).

    A NOSCRIPT reply means that call did not run, so those calls alone are retried after the
    script is loaded.  Other errors are returned in place, as exception values.
    """
    if not calls:
        return []
    results = await _send(redis, script, calls)
    retry = [i for i, r in enumerate(results) if _is_noscript(r)]
    if retry:
        await redis.script_load(script.source)
        again = await _send(redis, script, [calls[i] for i in retry])
        for i, value in zip(retry, again, strict=True):
            results[i] = value
    return results


async def _send(
    redis: Redis, script: Script, calls: Sequence[tuple[Sequence[str], Sequence[Arg]]]
) -> list[Any]:
    head = script.head
    payload = b"".join(resp.encode((len(keys), *keys, *args), head, 2) for keys, args in calls)
    return await resp.execute(redis, payload, len(calls))


def _load(name: str) -> Script:
    source = resources.files("streamfn.lua").joinpath(f"{name}.lua").read_text(encoding="utf-8")
    sha = hashlib.sha1(source.encode()).hexdigest()
    return Script(name, source, sha, resp.bulk(("EVALSHA", sha)))


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
    reap_consumers: Script
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
