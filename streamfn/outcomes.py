"""Reporting finished attempts: the :class:`Completion` a runner builds and the one round trip
that records a batch of them (``complete.lua`` for successes, ``fail.lua`` for failures,
``cancel_done.lua`` for cancellations), each fenced to the consumer that holds the delivery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from streamfn import codec
from streamfn.keys import GROUP, Keys
from streamfn.scripts import SCRIPTS, run_batch
from streamfn.settings import Settings

COMPLETE_CHUNK = 100
"""Successes per complete.lua call: ~8 µs of Redis time each, so a call holds Redis ~1 ms and
other clients' commands wait no longer than that (the chunks still share one round trip)."""


@dataclass(slots=True)  # not frozen: a frozen __init__ costs ~1 µs per invocation
class Completion:
    """A finished attempt a runner reports; ``error`` is None on success."""

    function: str
    entry_id: str
    invocation_id: str
    duration_ms: int
    result: bytes = b"null"
    error: Mapping[str, str] | None = None
    # "retry", "dead" (permanent failure or poison, no more attempts) or "cancel" (stopped
    # on request: recorded "cancelled" by cancel_done.lua)
    mode: str = "retry"
    max_attempts: int = 1
    backoff_base_ms: int = 1000
    backoff_cap_ms: int = 300_000
    jitter: float = 0.5
    dead_letter: bool = True


async def finish_many(
    redis: Redis, k: Keys, settings: Settings, consumer: str, items: Sequence[Completion]
) -> list[str]:
    """Report finished attempts in one round trip.

    Successes go to complete.lua, one call per function (chunks of ``COMPLETE_CHUNK``);
    failures to fail.lua, one call each.  Returns per item: "succeeded", "scheduled",
    "dead", "failed", "stale" (lease lost: nothing changed) or "error: ..." when Redis
    refused the call.
    """
    ttl = int(settings.result_ttl * 1000)
    by_function: dict[str, list[int]] = {}
    failures: list[int] = []
    stopped: list[int] = []  # cancelled on request: cancel_done.lua
    for i, c in enumerate(items):
        if c.error is None:
            by_function.setdefault(c.function, []).append(i)
        elif c.mode == "cancel":
            stopped.append(i)
        else:
            failures.append(i)
    ok_groups: list[list[int]] = []
    ok_calls = []
    for fn, idxs in by_function.items():
        for start in range(0, len(idxs), COMPLETE_CHUNK):
            chunk = idxs[start : start + COMPLETE_CHUNK]
            keys = [k.stream(fn)]
            args: list[Any] = [GROUP, consumer, ttl, k.done_channel]
            for i in chunk:
                c = items[i]
                keys.append(k.invocation(fn, c.invocation_id))
                args += (c.entry_id, c.invocation_id, c.result, c.duration_ms)
            ok_groups.append(chunk)
            ok_calls.append((keys, args))
    bad_calls = [_fail_call(k, settings, consumer, items[i], ttl) for i in failures]
    reported: list[str] = [""] * len(items)
    ok_replies = await run_batch(redis, SCRIPTS.complete, ok_calls)
    for chunk, reply in zip(ok_groups, ok_replies, strict=True):
        for i, r in zip(
            chunk, reply if isinstance(reply, list) else [reply] * len(chunk), strict=True
        ):
            if isinstance(r, Exception):
                reported[i] = f"error: {r}"
            else:
                reported[i] = "succeeded" if int(r) == 1 else "stale"
    bad_replies = await run_batch(redis, SCRIPTS.fail, bad_calls)
    for i, r in zip(failures, bad_replies, strict=True):
        reported[i] = f"error: {r}" if isinstance(r, Exception) else codec.text(r[1])
    if stopped:
        calls = [_cancel_done_call(k, consumer, items[i], ttl) for i in stopped]
        replies = await run_batch(redis, SCRIPTS.cancel_done, calls)
        for i, r in zip(stopped, replies, strict=True):
            done = "cancelled" if not isinstance(r, Exception) and int(r) == 1 else "stale"
            reported[i] = f"error: {r}" if isinstance(r, Exception) else done
    return reported


def _cancel_done_call(
    k: Keys, consumer: str, c: Completion, ttl: int
) -> tuple[list[str], list[Any]]:
    keys = [k.stream(c.function), k.invocation(c.function, c.invocation_id)]
    keys.append(k.cancels(c.function))
    args = [GROUP, consumer, c.entry_id, c.invocation_id, ttl, c.duration_ms, k.done_channel]
    return keys, args


def _fail_call(
    k: Keys, s: Settings, consumer: str, c: Completion, ttl: int
) -> tuple[list[str], list[Any]]:
    keys = [
        k.stream(c.function),
        k.timers(c.function),
        k.dead(c.function),
        k.invocation(c.function, c.invocation_id),
    ]
    args = [
        GROUP,
        consumer,
        c.entry_id,
        c.invocation_id,
        codec.dumps(c.error),
        c.mode,
        c.max_attempts,
        c.backoff_base_ms,
        c.backoff_cap_ms,
        c.jitter,
        "1" if c.dead_letter else "0",
        int(s.dead_ttl * 1000),
        ttl,
        s.dead_maxlen,
        k.done_channel,
        c.duration_ms,
    ]
    return keys, args
