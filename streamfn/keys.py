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
| ``{shard}:<fn>:logs:<id>``            | hash   | attempt -> JSON of its log lines (record's TTL) |
| ``{shard}:<fn>:cancels``              | zset   | entry id -> cancel request time (running ones)  |
| ``{shard}:<fn>:schedules``            | zset   | schedule id -> next fire ms (+inf: none)        |
| ``{shard}:<fn>:sched:<schedule id>``  | hash   | one schedule: definition and fire state         |
| ``{shard}:<fn>:ix:status``            | zset   | ``<status>:<id>``, score 0 (lex): by status     |
| ``{shard}:<fn>:ix:by``                | zset   | ``t:<tag>:<id>``, ``s:<schedule>:<id>`` (lex)   |
| ``{shard}:<fn>:ix:expiry``            | zset   | ``<status>|<id>:<tags>:<sid>|...`` -> expiry ms|
| ``{shard}:<fn>:ix:counts``            | hash   | final status -> records of it that still exist  |
| ``{shard}:<fn>:ix:minutes``           | hash   | ``<minute>``, ``<minute>:f`` -> done, failed   |
| ``<ns>:schedules``                    | hash   | schedule id -> function (lookup and listing)    |
| ``{<ns>:registry}:runners``           | set    | ids of runners that published a report          |
| ``{<ns>:registry}:runner:<id>``       | string | JSON of the functions that runner loaded (TTL)  |
| ``{<ns>:registry}:layouts``           | hash   | ``<fn>:<P>`` -> last announced (ms)             |
| ``{<ns>:registry}:deployed``          | hash   | fn -> JSON {policy, last seen loaded (ms)}      |
| ``{<ns>:registry}:removed``           | hash   | fn -> JSON {when (ms), why} of removed ones     |
| ``{<ns>:registry}:departed``          | zset   | runner id -> when it went away (ms, 10 min)     |
| ``{<ns>:registry}:paused``            | hash   | fn -> JSON {since (ms)} of paused functions     |
| ``{tag}:due_timers``                  | zset   | queue -> its earliest timer's due ms            |
| ``{tag}:due_schedules``               | zset   | function -> its earliest schedule's next fire   |
| ``{tag}:active``                      | set    | queues whose stream holds entries               |
| shard channel ``{shard}:done``        | spub   | ids of finished invocations someone waits for   |
| shard channel ``{shard}:cancel``      | spub   | "<id> <entry>" of running ones to stop          |
| shard channel ``{tag}:wake``          | spub   | "<ms>": a due time of the tag moved earlier     |

Per-function keys are per *queue* (:mod:`streamfn.partitions`): a function's home queue is
named like it and has the shard tag above; a partition queue ``<fn>@P.j`` of a function with
``PARTITIONS = P`` has its own tag (:func:`partition_tag`) in place of ``{shard}``.  Every
method below that takes a function name takes a queue name.

The last three keys and the wake channel exist once per hash tag (a shard tag, or a partition
tag), not per function: they index the tag's queues, so a loop that must find due timers,
due schedules or streams holding work reads one key per tag however many functions share it
(:mod:`streamfn.timekeeping`).  The scripts that change a queue's timers, schedules or
stream keep them exact in the same atomic step (each key shares the queue's tag).  Their
names have one segment after the tag, which no ``{tag}:<fn>:<kind>`` key can take.

The registry's keys share a tag of their own, so the catalog reads every report with one MGET
on a cluster too.  The schedule index is one key, touched only by plain commands.  Channels are
sharded (SPUBLISH from inside the scripts, which may only publish in their own slot); on one
node they cost the same as classic pub/sub.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from streamfn import partitions

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


MAX_SALT = 1 << 22
"""Salts tried for a partition tag's exact slot: ~16,384 expected, this many is never needed."""


@functools.lru_cache(maxsize=4096)
def partition_tag(home_tag: str, partitions: int, index: int) -> str:
    """The hash tag of queue ``index`` of a ``partitions``-queue layout homed at ``home_tag``.

    Its slot is ``index / partitions`` of the slot ring past the home tag's slot (rounded),
    found by trying salts in order, so every process derives the same tag.  ~5 ms once per
    tag; remembered.
    """
    home = home_tag[1:-1]
    step = (index * REDIS_CLUSTER_HASH_SLOTS + partitions // 2) // partitions
    target = (key_slot(home.encode()) + step) % REDIS_CLUSTER_HASH_SLOTS
    base = f"{home}:{partitions}.{index}:"
    for salt in range(MAX_SALT):
        if key_slot(f"{base}{salt}".encode()) == target:
            return f"{{{base}{salt}}}"
    raise RuntimeError(f"no salt gives slot {target}")  # pragma: no cover - CRC16 is onto


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names for one namespace.  Callers pass names already checked by :mod:`streamfn.names`."""

    namespace: str
    shards: int = DEFAULT_SHARDS
    tags: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _prefix: dict[str, str] = field(init=False, repr=False, compare=False)
    _queue_tag: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_shard_count(self.shards):
            raise ValueError(f"shards must be a power of two from 1 to {MAX_SHARDS}")
        object.__setattr__(self, "tags", shard_tags(self.namespace, self.shards))
        object.__setattr__(self, "_prefix", {})
        object.__setattr__(self, "_queue_tag", {})

    @classmethod
    def of(cls, settings: Settings) -> Keys:
        return cls(settings.namespace, settings.shards)

    # --- shards -----------------------------------------------------------------------------

    def shard(self, function: str) -> int:
        return shard_of(function, self.shards)

    def tag(self, queue: str) -> str:
        """The hash tag of a queue's keys: its function's shard tag, or a partition tag."""
        tag = self._queue_tag.get(queue)
        if tag is None:
            function, p, j = partitions.split(queue)
            home = self.tags[shard_of(function, self.shards)]
            tag = home if j == 0 else partition_tag(home, p, j)
            if len(self._queue_tag) < 100_000:  # bounded, as _prefix
                self._queue_tag[queue] = tag
        return tag

    def tags_of(self, queues: Iterable[str] = ()) -> list[str]:
        """Every shard tag, then the partition tags of ``queues`` (sorted, each once): the
        tags a process serving ``queues`` must watch."""
        extra = sorted({self.tag(q) for q in queues} - set(self.tags))
        return [*self.tags, *extra]

    def _tag(self, queue: str) -> str:
        """``{tag}:<fn>``, remembered per queue (it prefixes every key on hot paths)."""
        prefix = self._prefix.get(queue)
        if prefix is None:
            prefix = f"{self.tag(queue)}:{partitions.function_of_queue(queue)}"
            if len(self._prefix) < 100_000:  # bounded: names are checked, but keep it finite
                self._prefix[queue] = prefix
        return prefix

    def by_tag(self, queues: Iterable[str]) -> dict[str, list[str]]:
        """``queues`` grouped by hash tag, each group sorted: one read or sweep per group."""
        groups: dict[str, list[str]] = {}
        for q in sorted(queues):
            groups.setdefault(self.tag(q), []).append(q)
        return groups

    # --- per queue (a function's home queue is named like the function) -----------------------

    def stream(self, function: str) -> str:
        return f"{self._tag(function)}:stream"

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
        """``[stream, timers, invocation, due_timers, active]``: the keys enqueue.lua and
        cancel.lua start with.

        One call, the tag built once: it runs for every invocation enqueued.
        """
        prefix, tag = self._tag(function), self.tag(function)
        return [
            f"{prefix}:stream",
            f"{prefix}:timers",
            f"{prefix}:inv:{invocation_id}",
            f"{tag}:due_timers",
            f"{tag}:active",
        ]

    def logs(self, function: str, invocation_id: str) -> str:
        """What an invocation's attempts logged (:mod:`streamfn.invocation_logs`)."""
        return f"{self._tag(function)}:logs:{invocation_id}"

    def idempotency(self, function: str, user_key: str) -> str:
        """The user's key is hashed: any header value maps to a fixed-size, pattern-free name."""
        digest = hashlib.sha256(user_key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self._tag(function)}:idem:{digest}"

    def cancels(self, function: str) -> str:
        """Cancel requests for running invocations: stream entry id -> request time (ms)."""
        return f"{self._tag(function)}:cancels"

    # --- the invocation index (:mod:`streamfn.index`), per queue ----------------------------

    def index_status(self, function: str) -> str:
        """Zset, every score 0: ``<status>:<id>`` of each record (``live`` until it is final),
        so a lex range of one prefix lists one status in id (creation) order."""
        return f"{self._tag(function)}:ix:status"

    def index_by(self, function: str) -> str:
        """Zset, every score 0: ``t:<tag>:<id>`` per tag and ``s:<schedule id>:<id>``."""
        return f"{self._tag(function)}:ix:by"

    def index_expiry(self, function: str) -> str:
        """Zset ``<status>|<id>:<tags,...>:<schedule id>|...`` -> when those final records
        expire (ms; one entry per script call, its records expire together): what to take
        out of the other index keys once they have."""
        return f"{self._tag(function)}:ix:expiry"

    def index_counts(self, function: str) -> str:
        """Hash final status -> how many records of that status still exist."""
        return f"{self._tag(function)}:ix:counts"

    def index_minutes(self, function: str) -> str:
        """Hash ``<epoch minute>`` -> successes, ``<epoch minute>:f`` -> failed attempts, for
        the last 24 h (``lo``: the oldest minute kept)."""
        return f"{self._tag(function)}:ix:minutes"

    def index_keys(self, function: str) -> list[str]:
        """``[status, by, expiry, counts, minutes]``: the index keys, in the order the
        outcome scripts take them."""
        prefix = self._tag(function)
        return [
            f"{prefix}:ix:status",
            f"{prefix}:ix:by",
            f"{prefix}:ix:expiry",
            f"{prefix}:ix:counts",
            f"{prefix}:ix:minutes",
        ]

    def schedules(self, function: str) -> str:
        """Every schedule of ``function``, scored by next fire (ms); +inf when paused or done."""
        return f"{self._tag(function)}:schedules"

    def schedule(self, function: str, schedule_id: str) -> str:
        return f"{self._tag(function)}:sched:{schedule_id}"

    # --- channels ---------------------------------------------------------------------------

    def done_channel(self, queue: str) -> str:
        """The shard channel a finished invocation of ``queue`` is announced on."""
        return f"{self.tag(queue)}:done"

    def cancel_channel(self, queue: str) -> str:
        """The shard channel runners hear "<invocation id> <entry id>" of ``queue`` on."""
        return f"{self.tag(queue)}:cancel"

    def done_channels(self, queues: Iterable[str] = ()) -> list[str]:
        """Every shard's done channel, and those of the partition tags of ``queues``: a
        waiter hub listens on all of them."""
        return [f"{tag}:done" for tag in self.tags_of(queues)]

    def cancel_channels(self, queues: Iterable[str] = ()) -> list[str]:
        return [f"{tag}:cancel" for tag in self.tags_of(queues)]

    def wake_channel(self, tag: str) -> str:
        """The shard channel of hash tag ``tag`` on which a script announces that one of the
        tag's due times moved earlier ("<ms>"): timekeepers sleep until the next due time."""
        return f"{tag}:wake"

    # --- per hash tag (a shard tag, or a partition tag: see tags_of) ---------------------------

    def due_timers(self, tag: str) -> str:
        """Zset: each queue of ``tag`` that has timers -> its earliest timer's due ms."""
        return f"{tag}:due_timers"

    def due_schedules(self, tag: str) -> str:
        """Zset: each function homed at ``tag`` whose schedules will fire -> the earliest
        next fire (ms); a function with none (paused, finished, deleted) is not a member."""
        return f"{tag}:due_schedules"

    def active(self, tag: str) -> str:
        """Set: the queues of ``tag`` whose stream holds entries (queued or running)."""
        return f"{tag}:active"

    @property
    def layouts(self) -> str:
        """Hash ``<fn>:<P>`` -> when a runner last announced that layout (ms): which
        partition layouts runners must still read (:mod:`streamfn.layouts`)."""
        return f"{{{self.namespace}:registry}}:layouts"

    @property
    def deployed(self) -> str:
        """Hash fn -> JSON ``{"policy", "seen"}``: every function a runner ever loaded, its
        policy and when a live runner last reported it (ms) (:mod:`streamfn.deployed`)."""
        return f"{{{self.namespace}:registry}}:deployed"

    @property
    def removed(self) -> str:
        """Hash fn -> JSON ``{"at", "reason"}``: deployed functions that were removed (their
        file left every runner that had it, or an operator removed them)."""
        return f"{{{self.namespace}:registry}}:removed"

    @property
    def paused(self) -> str:
        """Hash fn -> JSON ``{"at"}``: paused functions, since when (ms, Redis clock).  Runners
        read it whole every second and leave these functions' streams out of their reads
        (:mod:`streamfn.pauses`)."""
        return f"{{{self.namespace}:registry}}:paused"

    # --- namespace-wide ---------------------------------------------------------------------

    @property
    def schedule_index(self) -> str:
        """Schedule id -> function, outside any shard: only plain commands touch it."""
        return f"{self.namespace}:schedules"

    @property
    def runners(self) -> str:
        return f"{{{self.namespace}:registry}}:runners"

    @property
    def departed(self) -> str:
        """Zset runner id -> when it was found gone (ms): the janitors' cue
        (:mod:`streamfn.departures`)."""
        return f"{{{self.namespace}:registry}}:departed"

    def runner(self, runner_id: str) -> str:
        return f"{{{self.namespace}:registry}}:runner:{runner_id}"
