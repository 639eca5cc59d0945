"""Reporting finished attempts: the :class:`Completion` a runner builds and the one round trip
that records a batch of them (``complete.lua`` for successes, ``fail.lua`` for failures,
``cancel_done.lua`` for cancellations), each fenced to the consumer that holds the delivery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from streamfn import codec
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.scripts import Call, Reply, run_batch
from streamfn.scripts.outcome_calls import cancel_done, complete, fail
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
    redis: AnyRedis, k: Keys, settings: Settings, consumer: str, items: Sequence[Completion]
) -> list[str]:
    """Report finished attempts in one round trip.

    Successes go to complete.lua, one call per function (chunks of ``COMPLETE_CHUNK``);
    failures to fail.lua, one call each.  Returns per item a :class:`Reply`: SUCCEEDED,
    SCHEDULED, DEAD, FAILED, CANCELLED, STALE (lease lost: nothing changed), or "error: ..."
    when Redis refused the call.
    """
    ttl = int(settings.result_ttl * 1000)
    successes, failures, stopped = _by_kind(items)
    reported: list[str] = [""] * len(items)
    await _complete(redis, k, consumer, ttl, items, successes, reported)
    await _fail(redis, k, settings, consumer, items, failures, reported)
    if stopped:
        await _cancel_done(redis, k, consumer, ttl, items, stopped, reported)
    return reported


def _by_kind(items: Sequence[Completion]) -> tuple[dict[str, list[int]], list[int], list[int]]:
    """Indexes of the successes (by function), the failures and the cancellations."""
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
    return by_function, failures, stopped


async def _complete(
    redis: AnyRedis,
    k: Keys,
    consumer: str,
    ttl: int,
    items: Sequence[Completion],
    by_function: dict[str, list[int]],
    reported: list[str],
) -> None:
    """complete.lua per function, ``COMPLETE_CHUNK`` at a time; fills ``reported``."""
    groups: list[list[int]] = []
    calls: list[Call] = []
    for fn, idxs in by_function.items():
        for start in range(0, len(idxs), COMPLETE_CHUNK):
            chunk = idxs[start : start + COMPLETE_CHUNK]
            groups.append(chunk)
            calls.append(complete(k, fn, consumer, ttl, [items[i] for i in chunk]))
    replies = await run_batch(redis, calls)
    for chunk, reply in zip(groups, replies, strict=True):
        for i, r in zip(
            chunk, reply if isinstance(reply, list) else [reply] * len(chunk), strict=True
        ):
            if isinstance(r, Exception):
                reported[i] = f"error: {r}"
            else:
                reported[i] = _SUCCEEDED if int(r) == 1 else _STALE


async def _fail(
    redis: AnyRedis,
    k: Keys,
    settings: Settings,
    consumer: str,
    items: Sequence[Completion],
    failures: list[int],
    reported: list[str],
) -> None:
    """fail.lua, one call per failure; fills ``reported``."""
    ttl, dead_ttl = int(settings.result_ttl * 1000), int(settings.dead_ttl * 1000)
    calls = [
        fail(
            k,
            consumer,
            items[i],
            failed_ttl_ms=ttl,
            dead_ttl_ms=dead_ttl,
            dead_maxlen=settings.dead_maxlen,
        )
        for i in failures
    ]
    replies = await run_batch(redis, calls)
    for i, r in zip(failures, replies, strict=True):
        reported[i] = f"error: {r}" if isinstance(r, Exception) else codec.text(r[1])


async def _cancel_done(
    redis: AnyRedis,
    k: Keys,
    consumer: str,
    ttl: int,
    items: Sequence[Completion],
    stopped: list[int],
    reported: list[str],
) -> None:
    """cancel_done.lua, one call per cancellation; fills ``reported``."""
    calls = [cancel_done(k, consumer, items[i], ttl) for i in stopped]
    replies = await run_batch(redis, calls)
    for i, r in zip(stopped, replies, strict=True):
        done = Reply.CANCELLED if not isinstance(r, Exception) and int(r) == 1 else _STALE
        reported[i] = f"error: {r}" if isinstance(r, Exception) else done


# Bound once: finish_many reports one per success, and a module global is the cheapest lookup.
_SUCCEEDED, _STALE = Reply.SUCCEEDED, Reply.STALE
