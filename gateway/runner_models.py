"""Answers of ``GET /runners``: the live runners as their last report says, orphaned work.

The gateway passes :func:`streamfn.runners_view.read_view`'s dict through; these Structs
describe it for the document, and tests check real answers against them.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from streamfn.gateway.models import Ms

Age = Annotated[float, Meta(ge=0, description="seconds, Redis clock")]


class LeaseInfo(Struct, kw_only=True):
    """The entry the runner has held longest (running, or its outcome not yet reported)."""

    id: Annotated[str, Meta(description="invocation id")]
    queue: Annotated[str, Meta(description="the function's queue (<fn> or <fn>@P.j)")]
    since: Annotated[Ms, Meta(description="delivered to this runner")]
    age_s: Age


class RunnerInfo(Struct, kw_only=True):
    """One live runner, as of its last heartbeat (reports are rewritten every heartbeat)."""

    id: Annotated[str, Meta(description="its consumer name: <host>-<pid>-<hex>")]
    host: str
    pid: int
    version: str
    started_at: Ms
    heartbeat_at: Annotated[Ms, Meta(description="when it last published its report")]
    heartbeat_age_s: Age
    concurrency: Annotated[int, Meta(ge=0, description="invocations it runs at once")]
    in_flight: Annotated[int, Meta(ge=0, description="invocations running at its last heartbeat")]
    functions: Annotated[list[str], Meta(description="functions loaded")]
    paused: Annotated[
        list[str],
        Meta(description="of those, the paused ones it has seen: it starts none of their work"),
    ]
    oldest_lease: LeaseInfo | None


class OrphanedWork(Struct, kw_only=True):
    """A function with entries delivered to runners that are gone (no live report)."""

    function: str
    entries: Annotated[int, Meta(ge=1)]


class Runners(Struct, kw_only=True):
    runners: Annotated[list[RunnerInfo], Meta(description="by id")]
    orphaned: Annotated[
        list[OrphanedWork],
        Meta(
            description="functions whose pending entries are held by no live runner: "
            "reclaimed after the visibility timeout, or after a resume when paused"
        ),
    ]
