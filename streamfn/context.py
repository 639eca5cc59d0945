"""What a handler sees: the public ``Context`` type and the errors a handler may raise."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Context:
    """Passed to ``handle(payload, ctx)``.

    ``deadline`` is epoch seconds (this host's clock) after which the runner gives up on this
    attempt; ``attempt`` counts from 1 and grows with each retry.
    """

    invocation_id: str
    function: str
    attempt: int
    deadline: float
    log: logging.LoggerAdapter[logging.Logger]

    def remaining(self) -> float:
        """Seconds left before the timeout (never negative)."""
        return max(0.0, self.deadline - time.time())


class PermanentError(Exception):
    """Raise from a handler to fail without retrying (straight to the dead-letter stream)."""


class AsyncHandler(Protocol):
    async def __call__(self, payload: Any, ctx: Context) -> Any: ...


class SyncHandler(Protocol):
    def __call__(self, payload: Any, ctx: Context) -> Any: ...
