"""Last chances: an entry on its final allowed delivery is claimed, and run, on its own.

A runner killed by a poison message takes down everything else it was running: those
entries come back with one delivery more, exactly like the poison.  Claimed together with
it again and again, they would reach ``STREAMFN_MAX_DELIVERIES`` with it and be
dead-lettered as poison although they never crashed anything (scenario R10).

So before each claim the reclaimer reads the delivery counts of the idle entries (XPENDING
with IDLE, read-only).  Entries with deliveries to spare are claimed in bulk as before; so
are entries already past the limit (they are dead-lettered without running).  An entry
whose next delivery is its last is claimed alone, and only while no other last-chance entry
runs in this runner: if it is the poison, it takes nothing over the limit with it when it
kills the runner.  With a single poison message, a normal entry can share at most
``max - 1`` crashes with it, so it always gets its last delivery alone.

The read replaces nothing when nothing is idle (one round trip either way); it adds one when
there is something to claim.  ``STREAMFN_MAX_DELIVERIES=2`` makes every first reclaim a last
chance, so a dead runner's work would be taken one entry at a time: keep it at 3 or more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streamfn.rdb import RDB
from streamfn.runner.jobs import RUNNING, Job

PEEK_MIN = 100  # rows read per look, at least: enough to see past a run of last chances


@dataclass(frozen=True, slots=True)
class Idle:
    """One pending entry idle past the visibility timeout, and how often it was delivered."""

    entry_id: str
    deliveries: int


def plan(rows: Sequence[Idle], free: int, max_deliveries: int, busy: bool) -> tuple[str, int]:
    """``(start id, count)`` of the next claim over ``rows`` (in stream order); count 0: none.

    ``busy``: a last-chance entry already runs here, so leading last chances are skipped.
    """
    last = max_deliveries - 1  # delivered this often: the next delivery is the last allowed
    i = 0
    if rows and rows[0].deliveries == last:
        if not busy:
            return rows[0].entry_id, 1
        while i < len(rows) and rows[i].deliveries == last:
            i += 1
    j = i
    while j < len(rows) and j - i < free and rows[j].deliveries != last:
        j += 1
    return (rows[i].entry_id, j - i) if j > i else ("", 0)


class LastChances:
    """Picks each claim so that at most one last-chance entry runs in this runner at a time."""

    def __init__(self, rdb: RDB, min_idle_ms: int, max_deliveries: int) -> None:
        self.rdb = rdb
        self.min_idle_ms = min_idle_ms
        self.max_deliveries = max_deliveries
        self._running: Job | None = None

    @property
    def busy(self) -> bool:
        return self._running is not None and self._running.state == RUNNING

    def started(self, job: Job, deliveries: int) -> None:
        """The reclaimer started ``job``, now delivered ``deliveries`` times."""
        if deliveries == self.max_deliveries:
            self._running = job

    async def next_claim(self, function: str, cursor: str, free: int) -> tuple[str, int]:
        """Where the next claim from ``cursor`` starts and how many it takes (0: stop here)."""
        pending = await self.rdb.idle_pending(
            function, self.min_idle_ms, start=cursor, count=max(free, PEEK_MIN)
        )
        rows = [Idle(entry_id, deliveries) for entry_id, deliveries in pending]
        return plan(rows, free, self.max_deliveries, self.busy)
