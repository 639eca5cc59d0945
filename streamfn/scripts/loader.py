"""The one loader of ``lua/*.lua``: every script the ``streamfn.lua`` package holds, its key
shape, and EVALSHA (reloading after a SCRIPT FLUSH or a restart).

Scripts are discovered, not listed: each ``*.lua`` file in ``streamfn.lua`` becomes a
:class:`Script` with its name, source, SHA1 and the key shape its header declares (the header
grammar: fixed ``KEYS[k]``, ``optional`` ones, variadic ``KEYS[k..n]`` / ``KEYS[j+i]``, is
defined in :mod:`streamfn.scripts.header`).  :class:`ScriptSet` gives them typed names; at
import its fields must equal the files found, so a new ``.lua`` without a field, or a field
without a file, fails at once.  Every call's key count is checked against the header before
anything is sent (:meth:`Script.check`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError

from streamfn.connection import AnyRedis
from streamfn.scripts.header import KeyShape, parse_header

Arg = Any  # str | bytes | int | float; Any so mixed argument lists need no casts

PACKAGE = "streamfn.lua"


@dataclass(frozen=True, slots=True)
class Script:
    """One Lua file: its name, source, SHA1 and declared key shape."""

    name: str
    source: str
    sha: str
    shape: KeyShape
    most_keys: int
    """``shape.most``, kept flat: :meth:`check` runs once per call."""

    def check(self, count: int) -> None:
        """Raise ValueError unless a call with ``count`` keys fits this script's header."""
        if count < self.shape.required or count > self.most_keys:
            raise ValueError(
                f"{self.name}.lua takes {self.shape.describe()} (its KEYS header), got {count}: "
                f"build the call with its encoder in streamfn.scripts"
            )

    async def run(self, redis: AnyRedis, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """EVALSHA; on NOSCRIPT (script cache flushed, Redis restarted) load it and retry once."""
        self.check(len(keys))
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.source)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)


Call = tuple[Script, list[str], list[Arg]]
"""One call of one script, ``(script, keys, args)``, as an encoder in ``streamfn.scripts.*_calls``
builds it.  A plain tuple: a NamedTuple's constructor costs ~2,800 instructions per call more
(callgrind), on a path that runs once per invocation."""


Pair = tuple[Sequence[str], Sequence[Arg]]
"""A call's ``(keys, args)``, its script set apart: how a batch of one script is sent."""


def load_script(name: str, source: str) -> Script:
    """A :class:`Script` from its source; HeaderError if the header breaks the grammar."""
    shape = parse_header(name, source)
    return Script(name, source, hashlib.sha1(source.encode()).hexdigest(), shape, shape.most)


def discover(package: str = PACKAGE) -> dict[str, Script]:
    """Every ``*.lua`` file of ``package``, by name, in name order."""
    files = sorted(
        (f for f in resources.files(package).iterdir() if f.name.endswith(".lua")),
        key=lambda f: f.name,
    )
    return {
        f.name[: -len(".lua")]: load_script(f.name[: -len(".lua")], f.read_text(encoding="utf-8"))
        for f in files
    }


def mismatch(declared: Iterable[str], found: Iterable[str]) -> str | None:
    """Why ``declared`` accessor names and ``found`` script files differ; None if they match."""
    names, files = set(declared), set(found)
    problems = []
    if files - names:
        problems.append(
            f"lua/ has {', '.join(sorted(files - names))} with no ScriptSet field: add one "
            "(and an encoder in streamfn.scripts)"
        )
    if names - files:
        problems.append(
            f"ScriptSet has {', '.join(sorted(names - files))} with no lua/<name>.lua: "
            "remove the field or add the file"
        )
    return "; ".join(problems) or None


@dataclass(frozen=True, slots=True)
class ScriptSet:
    """Every script, loaded once per process; a field per ``lua/<name>.lua``."""

    cancel: Script
    cancel_done: Script
    cancel_running: Script
    complete: Script
    discard: Script
    enqueue: Script
    extend: Script
    fail: Script
    promote: Script
    reap_consumers: Script
    reclaim: Script
    reindex: Script
    release: Script
    replay: Script
    schedule_delete: Script
    schedule_fire: Script
    schedule_pause: Script
    schedule_resume: Script
    schedule_upsert: Script
    watch: Script

    @classmethod
    def load(cls, package: str = PACKAGE) -> ScriptSet:
        """Discover ``package``'s scripts; RuntimeError if they and the fields differ."""
        found = discover(package)
        problem = mismatch((f.name for f in fields(cls)), found)
        if problem is not None:
            raise RuntimeError(f"the scripts in {package} and streamfn.scripts differ: {problem}")
        return cls(**found)

    def all(self) -> tuple[Script, ...]:
        """Every script, in name order."""
        return tuple(getattr(self, f.name) for f in fields(self))


SCRIPTS = ScriptSet.load()
