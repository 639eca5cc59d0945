"""Partitions: one function's work spread over ``P`` hash tags, so ``P`` masters share it.

``PARTITIONS = P`` in a function file (1 to :data:`MAX_PARTITIONS`, default 1) gives the
function ``P`` *queues*.  A queue is where an invocation's keys live (stream, timers, dead
letters, records, idempotency keys, cancels): every script call names the keys of one queue,
so it still touches one slot.

* **Queue names.**  Queue 0 is the *home* queue, named like the function (``resize``): its
  keys are the function's shard keys (:mod:`streamfn.keys`), the same for every ``P``, so a
  function that never sets ``PARTITIONS`` is laid out as before, and schedules (which fire in
  the home queue) never move.  Queue ``j`` (1 to ``P - 1``) of layout ``P`` is named
  ``resize@P.j``; :meth:`streamfn.keys.Keys.partition_tag` places its hash tag's slot exactly
  ``j / P`` of the slot ring away from the home slot.  On a cluster whose ``M`` masters own
  equal contiguous slot ranges (what ``redis-cli --cluster create`` makes), the ``P`` queues
  of a function with ``P <= M`` therefore sit on ``P`` different masters.
* **Ids locate their queue.**  An invocation id is ``<fn>.<24 hex>``: 12 hex of creation time
  (ms), 2 hex of *partition code*, 10 random hex (:func:`streamfn.names.new_invocation_id`).
  The code is 0 for the home queue, else ``(P - 1) * 16 + j``; :func:`queue_of` maps an id to
  its queue with no index, whatever ``P`` the function has now.  Codes that name no queue
  (``j = 0`` or ``j >= P``) mean home.
* **Which queue.**  A request with an Idempotency-Key goes to the queue the key's jump
  consistent hash picks (:func:`queue_for_key`), so a repeat finds the first; without one,
  queues take turns (:class:`RoundRobin`).
* **Changing P** moves nothing that exists: old ids keep naming their old queues, runners keep
  reading every layout announced lately or still holding work (:mod:`streamfn.layouts`), and
  only new invocations use the new layout.  An Idempotency-Key reused across a change of
  ``P`` may map to another queue; jump hashing keeps that to the share of keys that must move
  (``1 - P_old / P_new`` when growing).
"""

from __future__ import annotations

import hashlib
import itertools

MAX_PARTITIONS = 16
"""At most 16 queues per function: the partition code is one byte, ``(P - 1) * 16 + j``."""

SEPARATOR = "@"
"""Between the function and its layout in a queue name: never part of a function name."""


def is_partition_count(value: int) -> bool:
    return 1 <= value <= MAX_PARTITIONS


def code(partitions: int, index: int) -> int:
    """The id byte naming queue ``index`` of layout ``partitions`` (0: the home queue)."""
    if index == 0:
        return 0
    if not (is_partition_count(partitions) and 0 < index < partitions):
        raise ValueError(f"no queue {index} in a layout of {partitions} partitions")
    return (partitions - 1) * 16 + index


def decode(byte: int) -> tuple[int, int]:
    """``(P, j)`` of a partition code; ``(1, 0)`` (home) for 0 and codes naming no queue."""
    partitions, index = byte // 16 + 1, byte % 16
    if index == 0 or index >= partitions:
        return 1, 0
    return partitions, index


def queue_name(function: str, partitions: int, index: int) -> str:
    """``function`` for the home queue, else ``function@P.j``."""
    if index == 0:
        return function
    return f"{function}{SEPARATOR}{partitions}.{index}"


def queues(function: str, partitions: int) -> list[str]:
    """Every queue of one layout, home first."""
    return [queue_name(function, partitions, j) for j in range(partitions)]


def split(queue: str) -> tuple[str, int, int]:
    """``(function, P, j)`` of a queue name made by :func:`queue_name` (home: ``(fn, 1, 0)``)."""
    function, sep, layout = queue.partition(SEPARATOR)
    if not sep:
        return function, 1, 0
    p, _, j = layout.partition(".")
    return function, int(p), int(j)


def function_of_queue(queue: str) -> str:
    return queue.partition(SEPARATOR)[0]


def jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash (Lamping and Veach, 2014): ``key`` -> ``[0, buckets)``.

    Growing ``buckets`` from ``n`` to ``n + 1`` moves only ``1 / (n + 1)`` of the keys.
    """
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF
        j = int((b + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return b


def queue_for_key(function: str, partitions: int, idempotency_key: str) -> tuple[str, int]:
    """``(queue, code)`` an Idempotency-Key's invocations of ``function`` go to."""
    if partitions <= 1:
        return function, 0
    digest = hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).digest()
    index = jump_hash(int.from_bytes(digest[:8], "big"), partitions)
    return queue_name(function, partitions, index), code(partitions, index)


class RoundRobin:
    """Queues of each function in turn, for invocations without an Idempotency-Key."""

    def __init__(self) -> None:
        self._turns: dict[str, itertools.count[int]] = {}

    def pick(self, function: str, partitions: int) -> tuple[str, int]:
        if partitions <= 1:
            return function, 0
        turn = self._turns.get(function)
        if turn is None:  # one counter per function: a shared one could starve a queue
            turn = self._turns[function] = itertools.count()
        index = next(turn) % partitions
        return queue_name(function, partitions, index), code(partitions, index)
