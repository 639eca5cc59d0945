"""Encoders of the outcome scripts: complete, fail, cancel_done (each fenced to ``consumer``).

Each builds one script's KEYS and ARGV, in its header's order, from a runner's
:class:`streamfn.outcomes.Completion`; :func:`streamfn.outcomes.finish_many` sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from streamfn import codec
from streamfn.keys import GROUP, Keys
from streamfn.scripts.loader import SCRIPTS, Arg, Call

if TYPE_CHECKING:
    from streamfn.outcomes import Completion


def complete(
    k: Keys, function: str, consumer: str, ttl_ms: int, items: Sequence[Completion]
) -> Call:
    """Record the successes ``items`` (all of ``function``); results live ``ttl_ms``."""
    keys = [
        k.stream(function),
        k.active(k.tag(function)),
        *k.index_keys(function),
        *k.invocations(function, [c.invocation_id for c in items]),
    ]
    args: list[Arg] = [GROUP, consumer, ttl_ms, k.done_channel(function), function]
    for c in items:
        args += (c.entry_id, c.invocation_id, c.result, c.duration_ms)
    return SCRIPTS.complete, keys, args


def fail(
    k: Keys, consumer: str, c: Completion, *, failed_ttl_ms: int, dead_ttl_ms: int, dead_maxlen: int
) -> Call:
    """Record the failed attempt ``c``: a retry, a dead letter or a final failure."""
    fn = c.function
    tag = k.tag(fn)
    keys = [
        k.stream(fn),
        k.timers(fn),
        k.dead(fn),
        k.invocation(fn, c.invocation_id),
        k.due_timers(tag),
        k.active(tag),
        *k.index_keys(fn),
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
        dead_ttl_ms,
        failed_ttl_ms,
        dead_maxlen,
        k.done_channel(fn),
        c.duration_ms,
        fn,
        k.wake_channel(tag),
    ]
    return SCRIPTS.fail, keys, args


def cancel_done(k: Keys, consumer: str, c: Completion, ttl_ms: int) -> Call:
    """Record that the attempt ``c`` was stopped on request; the record lives ``ttl_ms``."""
    fn = c.function
    keys = [
        k.stream(fn),
        k.invocation(fn, c.invocation_id),
        k.cancels(fn),
        k.active(k.tag(fn)),
        k.index_status(fn),
        k.index_expiry(fn),
        k.index_counts(fn),
        k.index_by(fn),
    ]
    args = [
        GROUP,
        consumer,
        c.entry_id,
        c.invocation_id,
        ttl_ms,
        c.duration_ms,
        k.done_channel(fn),
        fn,
    ]
    return SCRIPTS.cancel_done, keys, args
