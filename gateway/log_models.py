"""``GET /invocations/{id}/logs``: its query and its answer (:mod:`streamfn.invocation_logs`)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

Attempt = Annotated[
    int, Meta(title="Attempt", ge=1, le=1000, description="only this attempt's lines")
]


class LogsQuery(Struct, frozen=True):
    attempt: Attempt | None = None


class LogLine(Struct, frozen=True):
    """One line an attempt logged (``ctx.log``) or printed (an isolated handler's output)."""

    attempt: Annotated[int, Meta(ge=1)]
    ts: Annotated[int, Meta(description="epoch milliseconds, the runner's clock")]
    level: Annotated[str, Meta(description="DEBUG, INFO, WARNING, ERROR or CRITICAL")]
    stream: Literal["log", "stdout", "stderr"]
    message: str


class InvocationLogs(Struct, frozen=True):
    """Oldest attempt first; an attempt past ``STREAMFN_LOG_MAX_BYTES`` starts with a marker
    line saying how many earlier lines it dropped.  Written at the end of each attempt."""

    id: str
    lines: list[LogLine]
