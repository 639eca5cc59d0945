"""Answers of ``GET /functions/{fn}`` and ``POST /functions/{fn}/pause|resume``.

``FunctionDetail`` describes the shape the gateway builds from the catalog entry (its state,
as in ``GET /functions``), the counts of its queues and its policy; tests check real
answers against it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from streamfn.gateway.models import AgeSeconds, Count0, Ms, Paused, PausedAt


class Policy(Struct, kw_only=True):
    """What the function's file sets (or the defaults), as the runners loading it report."""

    timeout: Annotated[float, Meta(description="seconds per attempt")]
    retries: Annotated[int, Meta(ge=0, description="retries after the first attempt")]
    kind: Annotated[str, Meta(description="async, sync, or the way it is isolated")]
    partitions: Annotated[int, Meta(ge=1, le=16)] = 1
    backoff: Annotated[float, Meta(description="first retry's backoff step, s")] | UnsetType = UNSET
    backoff_max: Annotated[float, Meta(description="cap of one backoff step, s")] | UnsetType = (
        UNSET
    )
    dead_letter: bool | UnsetType = UNSET
    isolate: bool | UnsetType = UNSET
    memory_mb: int | UnsetType | None = UNSET


class FunctionDetail(Struct, kw_only=True):
    """One deployed function: its state, the work its queues hold, and its policy."""

    name: str
    state: Literal["live", "no_runner"]
    runners: Annotated[list[str], Meta(description="ids of the live runners that load it")]
    paused: Paused
    paused_at: PausedAt | UnsetType = UNSET
    queued: Count0
    running: Annotated[int, Meta(ge=0, description="delivered and not finished")]
    orphaned: Annotated[
        int,
        Meta(
            ge=0,
            description="of running, those held by a runner that is no longer live: reclaimed "
            "after the visibility timeout (after a resume, if paused)",
        ),
    ]
    scheduled: Annotated[int, Meta(ge=0, description="delayed invocations and retries")]
    oldest_queued_age_s: AgeSeconds
    partitions: Annotated[int, Meta(ge=1, le=16)]
    last_seen_at: Annotated[Ms, Meta(description="when a live runner last had it")] | UnsetType = (
        UNSET
    )
    retained_until: Annotated[Ms, Meta(description="removed then unless a runner loads it")] | (
        UnsetType
    ) = UNSET
    policy: Policy


class PauseState(Struct, kw_only=True):
    """Whether the function is paused now (and since when)."""

    name: str
    paused: Paused
    paused_at: PausedAt | UnsetType = UNSET
