"""Encoders of the index scripts: ``reindex.lua`` (a queue in its tag's due/active indexes),
``index_range.lua`` and ``index_trim.lua`` (the invocation index, :mod:`streamfn.index`).

The indexes (``Keys.due_timers``, ``Keys.due_schedules``, ``Keys.active``) are kept exact by
the scripts that change timers, schedules and streams; this call is for keys those scripts
did not write (an older release's, a restore).  Schedules live in the home queue only, so
only a home queue's call names the schedule keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamfn import partitions
from streamfn.keys import Keys
from streamfn.scripts.loader import SCRIPTS, Call


def reindex(k: Keys, queue: str) -> Call:
    """Index ``queue``'s timers, stream (and, for a home queue, its function's schedules)."""
    tag = k.tag(queue)
    keys = [k.timers(queue), k.stream(queue), k.due_timers(tag), k.active(tag)]
    if partitions.split(queue)[2] == 0:
        keys += [k.schedules(queue), k.due_schedules(tag)]
    return SCRIPTS.reindex, keys, [queue, k.wake_channel(tag)]


def index_range(zset: str, prefixes: Sequence[str], count: int, below: str, since: str) -> Call:
    """The newest ``count`` ids under ``prefixes`` of one index zset (``Keys.index_status``
    or ``Keys.index_by`` of a queue), ids in ``[since, below)`` ("": unbounded)."""
    return SCRIPTS.index_range, [zset], [count, below, since, *prefixes]


def index_trim(k: Keys, queue: str, most: int) -> Call:
    """Take up to ``most`` entries of expired records out of ``queue``'s index."""
    status, by, expiry, counts, _minutes = k.index_keys(queue)
    return SCRIPTS.index_trim, [status, by, expiry, counts], [most]
