"""What a listing asks for: :class:`Query`, checked before any Redis key is named."""

from __future__ import annotations

from dataclasses import dataclass

from streamfn import tags
from streamfn.names import INVOCATION_ID_RE, is_function_name
from streamfn.record import STATUSES
from streamfn.schedules.definition import SCHEDULE_ID_RE

FINAL_STATUSES = ("cancelled", "dead", "failed", "succeeded")

LIVE = frozenset({"scheduled", "queued", "running"})
"""Statuses the index holds as ``live``."""

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_MS = (1 << 48) - 1
"""Ids hold 48 bits of ms: the latest time a filter can name."""


class QueryError(ValueError):
    """A filter or cursor a listing cannot use; the message says what to send instead."""


@dataclass(frozen=True, slots=True)
class Query:
    """One function's invocations, newest first, matching every filter given.

    ``since_ms`` (inclusive) and ``until_ms`` (exclusive) bound the creation time in the id
    (the creating client's clock, ms).  ``cursor`` is the last id of the previous page.
    """

    function: str
    status: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    schedule: str | None = None
    tag: str | None = None
    idempotency_key: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        self._check_names()
        for name, ms in (("since", self.since_ms), ("until", self.until_ms)):
            if ms is not None and not 0 <= ms <= MAX_MS:
                raise QueryError(f"{name} is out of range: give epoch ms (or seconds) after 1970")
        if self.idempotency_key is not None and not 1 <= len(self.idempotency_key) <= 255:
            raise QueryError("idempotency_key must be 1-255 characters")
        if self.cursor is not None:
            match = INVOCATION_ID_RE.fullmatch(self.cursor)
            if match is None or match.group("fn") != self.function:
                raise QueryError(
                    f"invalid cursor {self.cursor[:90]!r}: pass the next_cursor of the previous "
                    f"page of function {self.function}"
                )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be 1 to {MAX_LIMIT}")

    def _check_names(self) -> None:
        if not is_function_name(self.function):
            raise QueryError(f"invalid function name {self.function[:70]!r}")
        if self.status is not None and self.status not in STATUSES:
            shown = self.status[:32]
            raise QueryError(f"unknown status {shown!r}: use one of {', '.join(STATUSES)}")
        if self.schedule is not None and SCHEDULE_ID_RE.fullmatch(self.schedule) is None:
            raise QueryError(f"invalid schedule id {self.schedule[:70]!r}")
        if self.tag is not None and not tags.is_tag(self.tag):
            raise QueryError(f"invalid tag {self.tag[:40]!r}: {tags.RULE}")

    @property
    def below(self) -> str:
        """The exclusive upper id bound (cursor, until), "" for none."""
        bounds = [b for b in (self.cursor, self._id_at(self.until_ms)) if b]
        return min(bounds) if bounds else ""

    @property
    def since(self) -> str:
        """The inclusive lower id bound, "" for none."""
        return self._id_at(self.since_ms)

    def _id_at(self, ms: int | None) -> str:
        return "" if ms is None else f"{self.function}.{ms:012x}"

    def plan(self) -> tuple[str, list[str]]:
        """``("status" | "by", prefixes)``: the index zset and prefixes to read candidates
        from, the narrowest the filters allow; each candidate is then checked on its record."""
        if self.schedule is not None:
            return "by", [f"s:{self.schedule}:"]
        if self.tag is not None:
            return "by", [f"t:{self.tag}:"]
        if self.status in FINAL_STATUSES:
            return "status", [f"{self.status}:"]
        if self.status in LIVE:
            return "status", ["live:"]
        return "status", ["live:", *(f"{s}:" for s in FINAL_STATUSES)]
