"""What one read loop last did, by the monotonic clock: what the health probes judge
(:mod:`streamfn.runner.health`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class Pulse:
    """A read loop's last answered read, last ended round, and whether it waits on purpose."""

    answered: float = field(default_factory=time.monotonic)
    """When Redis last answered a read (or a deliberate wait for a free slot ended)."""
    ended: float = field(default_factory=time.monotonic)
    """When a round last ended, answered or failed."""
    waiting: bool = False
    """Waiting for a free slot: every slot runs work, so no read is due."""
    running: bool = True
    """False once the loop's task has ended."""

    def answer(self) -> None:
        self.answered = self.ended = time.monotonic()

    def end(self) -> None:
        self.ended = time.monotonic()
