"""Every Redis key and channel name streamfn uses.  No key string is built anywhere else.

**Shards.**  A namespace has ``S`` shards (``STREAMFN_SHARDS``, a power of two, 16 by
default).  Each shard is one hash tag ``{<ns>:<k>:<salt>}``; the salt is the smallest number
that puts shard ``k``'s slot in the ``k``-th ``1/S`` of the 16,384 Redis Cluster slots, so the
shards spread over a cluster's masters as evenly as its slot ranges do.  A function lives in
shard ``crc32(name) mod S``: all of its keys share that shard's tag, so every script touches
one slot, and one XREADGROUP (or one SSUBSCRIBE) names every function of a shard.  A runner
serving F functions on a cluster thus needs at most ``S`` blocking reads, not F; on one node
it needs one.  ``S`` is part of the key layout: it must be the same for every process of a
namespace, and changing it relocates every key (drain first).

| key                                   | type   | holds                                           |
|---------------------------------------|--------|-------------------------------------------------|
| ``{shard}:<fn>:stream``               | stream | live work; consumer group ``runners``           |
| ``{shard}:<fn>:timers``               | zset   | invocation id -> due time (ms, Redis clock)     |
| ``{shard}:<fn>:dead``                 | stream | dead letters (capped, approximate MAXLEN)       |
| ``{shard}:<fn>:inv:<id>``             | hash   | one invocation's record (TTL once finished)     |
| ``{shard}:<fn>:idem:<sha256>``        | string | Idempotency-Key -> invocation id (TTL)          |
| ``{shard}:<fn>:cancels``              | zset   | entry id -> cancel request time (running ones)  |
| ``{shard}:<fn>:schedules``            | zset   | schedule id -> next fire ms (+inf: none)        |
| ``{shard}:<fn>:sched:<schedule id>``  | hash   | one schedule: definition and fire state         |
| ``<ns>:schedules``                    | hash   | schedule id -> function (lookup and listing)    |
| ``{<ns>:registry}:runners``           | set    | ids of runners that published a report          |
| ``{<ns>:registry}:runner:<id>``       | string | JSON of the functions that runner loaded (TTL)  |
| shard channel ``{shard}:done``        | spub   | ids of finished invocations someone waits for   |
| shard channel ``{shard}:cancel``      | spub   | "<id> <entry>" of running ones to stop          |

The registry's keys share a tag of their own, so the catalog reads every report with one MGET
on a cluster too.  The schedule index is one key, touched only by plain commands.  Channels are
sharded (SPUBLISH from inside the scripts, which may only publish in their own slot); on one
node they cost the same as classic pub/sub.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

if TYPE_CHECKING:
    from streamfn.settings import Settings

GROUP = "runners"
"""The one consumer group on every function stream."""

DEFAULT_SHARDS = 16
MAX_SHARDS = 256


def is_shard_count(value: int) -> bool:
    """A power of two from 1 to :data:`MAX_SHARDS`."""
    return 1 <= value <= MAX_SHARDS and value & (value - 1) == 0


def shard_tags(namespace: str, shards: int) -> tuple[str, ...]:
    """``{ns:k:salt}`` for each shard ``k``, its slot inside the ``k``-th slice of the slots."""
    width = REDIS_CLUSTER_HASH_SLOTS // shards
    tags = []
    for k in range(shards):
        salt = 0
        while key_slot(f"{namespace}:{k}:{salt}".encode()) // width != k:
            salt += 1  # ~S tries on average; a few thousand at most for S = 256
        tags.append(f"{{{namespace}:{k}:{salt}}}")
    return tuple(tags)


def shard_of(function: str, shards: int) -> int:
    """The shard a function's keys live in."""
    return zlib.crc32(function.encode()) & (shards - 1)


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names for one namespace.  Callers pass names already checked by :mod:`streamfn.names`."""

    namespace: str
    shards: int = DEFAULT_SHARDS
    tags: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _prefix: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_shard_count(self.shards):
            raise ValueError(f"shards must be a power of two from 1 to {MAX_SHARDS}")
        object.__setattr__(self, "tags", shard_tags(self.namespace, self.shards))
        object.__setattr__(self, "_prefix", {})

    @classmethod
    def of(cls, settings: Settings) -> Keys:
        return cls(settings.namespace, settings.shards)

    # --- shards -----------------------------------------------------------------------------

    def shard(self, function: str) -> int:
        return shard_of(function, self.shards)

    def _tag(self, function: str) -> str:
        """``{shard}:<fn>``, remembered per function (it prefixes every key on hot paths)."""
        prefix = self._prefix.get(function)
        if prefix is None:
            prefix = f"{self.tags[shard_of(function, self.shards)]}:{function}"
            if len(self._prefix) < 100_000:  # bounded: names are checked, but keep it finite
                self._prefix[function] = prefix
        return prefix

    def by_shard(self, functions: Iterable[str]) -> dict[int, list[str]]:
        """``functions`` grouped by shard, each group sorted: one read or sweep per group."""
        groups: dict[int, list[str]] = {}
        for fn in sorted(functions):
            groups.setdefault(self.shard(fn), []).append(fn)
        return groups

    # --- per function -----------------------------------------------------------------------

    def stream(self, function: str) -> str:
        return f"{self._tag(function)}:stream"

    def streams_of(self, function: str, partitions: int = 1) -> list[str]:
        """Every stream of ``function`` when its file declares ``PARTITIONS = partitions``.

        STAND-IN (branch bench-scaling, for the bench): partitions are not built yet, so a
        function has its one stream whatever ``partitions`` says.  The partitioned key layout
        replaces this body with the stream of each partition's tag.
        """
        return [self.stream(function)]

    def timers(self, function: str) -> str:
        return f"{self._tag(function)}:timers"

    def dead(self, function: str) -> str:
        return f"{self._tag(function)}:dead"

    def invocation(self, function: str, invocation_id: str) -> str:
        return f"{self._tag(function)}:inv:{invocation_id}"

    def invocations(self, function: str, invocation_ids: Iterable[str]) -> list[str]:
        """:meth:`invocation` of each id, the tag built once (complete.lua takes ~100)."""
        tag = self._tag(function)
        return [f"{tag}:inv:{i}" for i in invocation_ids]

    def queue_keys(self, function: str, invocation_id: str) -> list[str]:
        """``[stream, timers, invocation]``: the keys enqueue.lua and cancel.lua start with.

        One call, the tag built once: it runs for every invocation enqueued.
        """
        tag = self._tag(function)
        return [f"{tag}:stream", f"{tag}:timers", f"{tag}:inv:{invocation_id}"]

    def idempotency(self, function: str, user_key: str) -> str:
        """The user's key is hashed: any header value maps to a fixed-size, pattern-free name."""
        digest = hashlib.sha256(user_key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self._tag(function)}:idem:{digest}"

    def cancels(self, function: str) -> str:
        """Cancel requests for running invocations: stream entry id -> request time (ms)."""
        return f"{self._tag(function)}:cancels"

    def schedules(self, function: str) -> str:
        """Every schedule of ``function``, scored by next fire (ms); +inf when paused or done."""
        return f"{self._tag(function)}:schedules"

    def schedule(self, function: str, schedule_id: str) -> str:
        return f"{self._tag(function)}:sched:{schedule_id}"

    # --- channels ---------------------------------------------------------------------------

    def done_channel(self, function: str) -> str:
        """The shard channel a finished invocation of ``function`` is announced on."""
        return f"{self.tags[self.shard(function)]}:done"

    def cancel_channel(self, function: str) -> str:
        """The shard channel runners hear "<invocation id> <entry id>" of ``function`` on."""
        return f"{self.tags[self.shard(function)]}:cancel"

    @property
    def done_channels(self) -> list[str]:
        """Every shard's done channel: a waiter hub listens on all of them."""
        return [f"{tag}:done" for tag in self.tags]

    @property
    def cancel_channels(self) -> list[str]:
        return [f"{tag}:cancel" for tag in self.tags]

    # --- namespace-wide ---------------------------------------------------------------------

    @property
    def schedule_index(self) -> str:
        """Schedule id -> function, outside any shard: only plain commands touch it."""
        return f"{self.namespace}:schedules"

    @property
    def runners(self) -> str:
        return f"{{{self.namespace}:registry}}:runners"

    def runner(self, runner_id: str) -> str:
        return f"{{{self.namespace}:registry}}:runner:{runner_id}"
