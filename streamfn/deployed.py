"""Deployed functions: which names take invocations, whether or not a runner is live.

A function is *deployed* from the moment any runner reports it loaded.  It stays deployed
while no runner is live (its invocations wait in its queues and run when a runner is back)
until one of three things removes it:

* its file left the functions directory of every live runner that had it (a runner lists
  such names in its report, :attr:`~streamfn.registry.RunnerReport.removed`, and records
  the removal here once no live runner loads the name any more);
* an operator removed it (``DELETE /functions/{fn}``, ``streamfn functions rm``), which is
  refused while a live runner loads it;
* ``STREAMFN_DEPLOYED_RETENTION`` passed since a live runner last reported it: its runners
  went away (stopped or crashed) and none came back.

A runner that loads the name again deploys it again.  Removing loses nothing: what its
queues hold stays there (listed under ``removed`` by ``GET /functions``), and runs if it is
deployed again.  State lives in two hashes of the registry's hash tag (:mod:`streamfn.keys`):
``deployed`` (fn -> policy and when last seen loaded, written by every runner report) and
``removed`` (fn -> when and why, deleted by every runner report that loads fn).

| state       | when                                                        | POST /invoke |
|-------------|-------------------------------------------------------------|--------------|
| ``live``      | a live runner reports it loaded                           | 202          |
| ``no_runner`` | deployed, no live runner loads it, seen within retention  | 202 (queued) |
| ``removed``   | removed as above, or retention ran out                    | 404          |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streamfn import codec
from streamfn.connection import AnyRedis
from streamfn.keys import Keys

LIVE = "live"
NO_RUNNER = "no_runner"
REMOVED = "removed"

FILE_REMOVED = "file_removed"
OPERATOR = "operator"
RETENTION = "retention_expired"


@dataclass(frozen=True, slots=True)
class Deployment:
    """One function of the ``deployed`` hash: its policy, when a live runner last had it."""

    policy: dict[str, Any]
    seen_ms: int


@dataclass(frozen=True, slots=True)
class Removal:
    """One function of the ``removed`` hash: when (ms) and why (:data:`FILE_REMOVED` or
    :data:`OPERATOR`; :func:`classify` makes :data:`RETENTION` ones, never stored)."""

    at_ms: int
    reason: str


def record_loaded(
    pipe: Any, keys: Keys, functions: Mapping[str, Mapping[str, Any]], now_ms: int
) -> None:
    """Queue on ``pipe`` what a runner reporting ``functions`` (name -> policy) as loaded at
    ``now_ms`` means: each is deployed, seen now, and removed no more."""
    if not functions:
        return
    rows = {fn: codec.dumps({"policy": dict(p), "seen": now_ms}) for fn, p in functions.items()}
    pipe.hset(keys.deployed, mapping=rows)
    pipe.hdel(keys.removed, *functions)


async def record_removed(redis: AnyRedis, keys: Keys, removals: Mapping[str, Removal]) -> None:
    """Mark ``removals`` removed (the caller checked no live runner loads them)."""
    if removals:
        rows = {fn: codec.dumps({"at": r.at_ms, "reason": r.reason}) for fn, r in removals.items()}
        await redis.hset(keys.removed, mapping=rows)  # type: ignore[arg-type]


def parse_deployments(raw: Mapping[bytes, bytes]) -> dict[str, Deployment]:
    out = {}
    for field, value in raw.items():
        row = codec.loads(value)
        out[field.decode()] = Deployment(dict(row.get("policy", {})), int(row.get("seen", 0)))
    return out


def parse_removals(raw: Mapping[bytes, bytes]) -> dict[str, Removal]:
    out = {}
    for field, value in raw.items():
        row = codec.loads(value)
        out[field.decode()] = Removal(int(row.get("at", 0)), str(row.get("reason", OPERATOR)))
    return out


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the live reports say of one function: a policy, how many runners load it."""

    policy: dict[str, Any]
    runners: int


@dataclass(frozen=True, slots=True)
class States:
    """Every name a runner ever loaded, by state: catalog entries of the deployed ones
    (``live`` and ``no_runner``) and of the ``removed`` ones, each sorted by name."""

    functions: dict[str, dict[str, Any]]
    removed: dict[str, dict[str, Any]]


def classify(
    loaded: Mapping[str, Loaded],
    removing: Mapping[str, int],
    deployments: Mapping[str, Deployment],
    removals: Mapping[str, Removal],
    *,
    now_ms: int,
    retention_ms: int,
) -> States:
    """The state of each function loaded or deployed (a removal of a name never deployed
    changes nothing).  ``removing``: names live runners lost the file of (-> when);
    ``now_ms`` (Redis clock) decides retention, so it matters only for functions no live
    runner loads and nothing removed; ``retention_ms`` 0 keeps them until they are removed
    (a deployment that scales its runners to zero for as long as it likes)."""
    functions: dict[str, dict[str, Any]] = {}
    removed: dict[str, dict[str, Any]] = {}
    for fn in sorted({*loaded, *deployments}):
        if fn in loaded:
            live = loaded[fn]
            functions[fn] = {"name": fn, **live.policy, "runners": live.runners, "state": LIVE}
            continue
        known = deployments[fn]
        entry = {"name": fn, **known.policy, "last_seen_at": known.seen_ms}
        until = known.seen_ms + retention_ms if retention_ms > 0 else None
        removal = removals.get(fn)
        if removal is None and fn in removing:
            removal = Removal(removing[fn], FILE_REMOVED)
        if removal is None and until is not None and now_ms >= until:
            removal = Removal(until, RETENTION)
        if removal is None:
            functions[fn] = {**entry, "runners": 0, "state": NO_RUNNER}
            if until is not None:
                functions[fn]["retained_until"] = until
        else:
            removed[fn] = {**entry, "state": REMOVED, "reason": removal.reason}
            removed[fn]["removed_at"] = removal.at_ms
    return States(functions, removed)


def needs_clock(
    loaded: Mapping[str, Loaded],
    removing: Mapping[str, int],
    deployments: Mapping[str, Deployment],
    removals: Mapping[str, Removal],
    retention_ms: int,
) -> bool:
    """Whether :func:`classify` must know the time: some deployed function has no live
    runner and was not removed, so its retention (unless 0: none) decides."""
    return retention_ms > 0 and any(
        fn not in loaded and fn not in removing and fn not in removals for fn in deployments
    )


def utc(ms: int) -> str:
    """An entry's time (epoch ms) as ISO 8601 UTC to the second, for messages and tables."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
