"""Encoders of the lease scripts: extend, reclaim, release, reap_consumers.

Each builds one script's KEYS and ARGV, in its header's order; ``consumer`` is the calling
runner's consumer name.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamfn.keys import GROUP, Keys
from streamfn.scripts.loader import SCRIPTS, Call


def extend(k: Keys, function: str, consumer: str, entry_ids: Sequence[str]) -> Call:
    """Renew the leases on ``entry_ids``; replies the ones this consumer lost."""
    return SCRIPTS.extend, [k.stream(function)], [GROUP, consumer, *entry_ids]


def reclaim(
    k: Keys, function: str, consumer: str, min_idle_ms: int, cursor: str, count: int
) -> Call:
    """Take over up to ``count`` entries idle ``min_idle_ms`` or more, from ``cursor``."""
    args = [GROUP, consumer, min_idle_ms, cursor, count]
    return SCRIPTS.reclaim, [k.stream(function)], args


def release(k: Keys, function: str, consumer: str, entry_id: str, invocation_id: str) -> Call:
    """Hand ``entry_id`` back to the stream's tail at once."""
    keys = [k.stream(function), k.invocation(function, invocation_id)]
    return SCRIPTS.release, keys, [GROUP, consumer, entry_id]


def reap_consumers(k: Keys, function: str, consumer: str, idle_limit_ms: int, cap: int) -> Call:
    """Delete up to ``cap`` idle consumers holding nothing (never ``consumer``)."""
    args = [GROUP, consumer, idle_limit_ms, cap]
    return SCRIPTS.reap_consumers, [k.stream(function)], args
