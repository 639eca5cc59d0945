"""The invocation index: list, filter and count invocations without a SCAN.

The scripts that change an invocation's status keep it, in the same atomic step, in five
keys per queue (:class:`streamfn.keys.Keys`, ``index_*``; every key has the queue's hash
tag, so a function's partition queues each have their own and a listing merges them by id):

| key            | written by                                  | holds                        |
|----------------|---------------------------------------------|------------------------------|
| ``ix:status``  | enqueue, schedule_fire (``live:``); complete,| ``<status>:<id>``, score 0   |
|                | fail, cancel, cancel_done (final); replay;  |                              |
|                | discard (out)                               |                              |
| ``ix:by``      | enqueue (tags, schedule), schedule_fire     | ``t:<tag>:<id>``, ``s:...``  |
| ``ix:expiry``  | the final ones above; replay removes        | entry -> record's expiry ms  |
| ``ix:counts``  | the final ones above; replay; trims         | final status -> records      |
| ``ix:minutes`` | complete (successes), fail (failed attempts)| per minute, 24 h             |

Ids are ``<fn>.<12 hex ms>...`` (:mod:`streamfn.names`), so with every score 0 a lex range
of one prefix lists one status (or tag, or schedule) in creation order, and a time range is
an id range.  Index entries of a final record go once the record has expired: complete.lua
and fail.lua take out a few expired ones on every call, and readers (:mod:`.stats`,
:mod:`.listing`) run ``index_trim.lua`` until none is left, so memory follows the records'
TTLs while a queue is used; once a finishing script leaves no live record, the four keys are
set to expire 1 s after the last final record does (enqueue, schedule_fire and replay take
that TTL off again), so an idle queue's index returns to nothing by itself.

``scheduled``, ``queued`` and ``running`` are ``live`` in the index (a runner takes work
with XREADGROUP, no script): a listing tells them apart on the record and the stream, and
their counts are the timer wheel's and the stream's sizes (:mod:`.stats`).
"""

from streamfn.index.listing import Page, list_page
from streamfn.index.query import DEFAULT_LIMIT, MAX_LIMIT, Query, QueryError
from streamfn.index.stats import counts, minutes, queues_of, trim

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Page",
    "Query",
    "QueryError",
    "counts",
    "list_page",
    "minutes",
    "queues_of",
    "trim",
]
