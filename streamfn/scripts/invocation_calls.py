"""Encoders of the invocation scripts: enqueue, promote, cancel, cancel_running, replay,
discard, watch.

Each builds one script's KEYS and ARGV, in its header's order (``lua/<name>.lua``), from key
names of :class:`streamfn.keys.Keys`; nothing else builds them.  Send the :class:`Call` with
:func:`streamfn.scripts.run`, :func:`~streamfn.scripts.run_batch` or a batcher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from streamfn import codec
from streamfn.keys import GROUP, Keys
from streamfn.scripts.loader import SCRIPTS, Call


def enqueue(
    k: Keys,
    function: str,
    invocation_id: str,
    payload: bytes,
    *,
    delay_ms: int = 0,
    at_ms: int = 0,
    notify: bool = False,
    idempotency_key: str | None = None,
    idempotency_ttl_ms: int = 0,
    extra: Mapping[str, str] | None = None,
    max_backlog: int = 0,
) -> Call:
    """Queue ``invocation_id`` now, after ``delay_ms``, or at ``at_ms`` (epoch ms, wins when
    > 0).  ``max_backlog`` 0: no cap."""
    keys = k.queue_keys(function, invocation_id)
    if idempotency_key is not None:
        keys.append(k.idempotency(function, idempotency_key))
    args = [
        invocation_id,
        payload,
        delay_ms if delay_ms > 0 else 0,
        at_ms if at_ms > 0 else 0,
        "1" if notify else "0",
        idempotency_ttl_ms,
        GROUP,
        codec.dumps(dict(extra)) if extra else "",
        max_backlog,
        function,
        k.wake_channel(k.tag(function)),
    ]
    return SCRIPTS.enqueue, keys, args


def promote(k: Keys, function: str, invocation_ids: Sequence[str]) -> Call:
    """Move those of ``invocation_ids`` that are due from the timer wheel into the stream."""
    tag = k.tag(function)
    keys = [
        k.timers(function),
        k.stream(function),
        k.due_timers(tag),
        k.active(tag),
        *k.invocations(function, invocation_ids),
    ]
    return SCRIPTS.promote, keys, [GROUP, function, *invocation_ids]


def cancel(k: Keys, function: str, invocation_id: str, ttl_ms: int) -> Call:
    """Cancel a scheduled or queued invocation; its record then lives ``ttl_ms``."""
    keys = k.queue_keys(function, invocation_id)
    args = [GROUP, invocation_id, ttl_ms, k.done_channel(function), function]
    return SCRIPTS.cancel, keys, args


def cancel_running(k: Keys, function: str, invocation_id: str, ttl_ms: int) -> Call:
    """Ask the runner running ``invocation_id`` to stop; ``ttl_ms``: of the cancels set."""
    keys = [k.stream(function), k.invocation(function, invocation_id), k.cancels(function)]
    return SCRIPTS.cancel_running, keys, [GROUP, invocation_id, k.cancel_channel(function), ttl_ms]


def replay(k: Keys, function: str, invocation_id: str) -> Call:
    """Queue a dead invocation again."""
    keys = [
        k.dead(function),
        k.stream(function),
        k.invocation(function, invocation_id),
        k.active(k.tag(function)),
    ]
    return SCRIPTS.replay, keys, [GROUP, invocation_id, function]


def discard(k: Keys, function: str, invocation_id: str) -> Call:
    """Delete a dead invocation's dead letter and record."""
    keys = [k.dead(function), k.invocation(function, invocation_id)]
    return SCRIPTS.discard, keys, [invocation_id]


def watch(k: Keys, function: str, invocation_id: str) -> Call:
    """Ask for a PUBLISH when ``invocation_id`` finishes; replies its current status."""
    return SCRIPTS.watch, [k.invocation(function, invocation_id)], []
