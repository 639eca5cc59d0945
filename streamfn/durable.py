"""Durable acknowledgement: a write counts once ``STREAMFN_DURABLE_REPLICAS`` replicas have it.

Redis replicates asynchronously, so a master that fails right after answering can take an
acknowledged enqueue with it.  ``WAIT numreplicas timeout`` blocks until that many replicas
have everything the *same connection* wrote, so the WAIT rides at the end of the pipeline
that carried the writes (:func:`streamfn.scripts.run_batch`): one WAIT per coalesced batch,
not one per request.  When fewer replicas confirm in time, every reply of the batch becomes a
:class:`~streamfn.errors.ReplicationUnconfirmed` (the gateway answers 503): which of them the
replicas did see cannot be told apart, and the Idempotency-Key makes a retry safe.

On a Redis Cluster a batch's calls live on several masters, each with its own replicas: the
batch sends one WAIT per master, on the connection that carried that master's calls, and
:meth:`Durability.confirm` runs once per master, on that master's replies and WAIT alone
(:mod:`streamfn.scripts.cluster_durable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamfn import resp
from streamfn.errors import ReplicationUnconfirmed
from streamfn.settings import Settings


@dataclass(frozen=True, slots=True)
class Durability:
    """How many replicas must confirm a batch, and how long to wait for them."""

    replicas: int
    timeout_ms: int

    @classmethod
    def of(cls, settings: Settings) -> Durability | None:
        """The policy the settings ask for; None when durable acknowledgement is off."""
        if settings.durable_replicas <= 0:
            return None
        return cls(settings.durable_replicas, settings.durable_timeout_ms)

    def command(self) -> bytes:
        """The encoded ``WAIT`` to append to a batch's pipeline."""
        return resp.encode(("WAIT", self.replicas, self.timeout_ms))

    def confirm(self, results: list[Any], wait_replies: list[Any]) -> list[Any]:
        """``results``, or each non-error one replaced by ReplicationUnconfirmed when any of
        the batch's WAITs (one per round trip that wrote) saw too few replicas.

        A WAIT refused by Redis (an error reply, e.g. sent to a replica) confirms nothing.
        """
        acked = min((r if isinstance(r, int) else 0) for r in wait_replies)
        if acked >= self.replicas:
            return results
        error = ReplicationUnconfirmed(acked, self.replicas, self.timeout_ms)
        return [r if isinstance(r, Exception) else error for r in results]
