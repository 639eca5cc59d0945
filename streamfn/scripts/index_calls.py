"""The encoder of ``reindex.lua``: enter one queue in its hash tag's indexes as it stands.

The indexes (``Keys.due_timers``, ``Keys.due_schedules``, ``Keys.active``) are kept exact by
the scripts that change timers, schedules and streams; this call is for keys those scripts
did not write (an older release's, a restore).  Schedules live in the home queue only, so
only a home queue's call names the schedule keys.
"""

from __future__ import annotations

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
