"""Every status and code the Lua scripts return, and the ones Python reports from them.

Each value is the exact string on the wire (see the ``Returns`` block of each script's header),
so a reply decoded to ``str`` compares equal to its member.  Invocation statuses
(``queued`` ... ``cancelled``) double as the ``status`` field of the invocation record.
"""

from __future__ import annotations

from enum import StrEnum


class Reply(StrEnum):
    """A script's status reply; a ``str``, so it compares equal to the decoded reply."""

    # invocation statuses (the record's ``status``; "running" is derived)
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"
    # enqueue.lua
    DUPLICATE = "duplicate"
    FULL = "full"
    # cancel.lua, cancel_running.lua, replay.lua
    NOT_FOUND = "not_found"
    CANCELLING = "cancelling"
    # fail.lua, schedule_upsert.lua, schedule_resume.lua; complete/cancel_done's 0
    STALE = "stale"
    # schedule_upsert.lua
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # schedule_resume.lua
    RESUMED = "resumed"
    NOT_PAUSED = "not_paused"
    # schedule_resume.lua, schedule_fire.lua
    MISSING = "missing"
    # schedule_fire.lua
    OK = "ok"
    MOVED = "moved"
    REV = "rev"
    EARLY = "early"
    ORDER = "order"
    LIMIT = "limit"
