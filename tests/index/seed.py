"""Seeding for the index tests: invocations with mixed outcomes, driven through the real
scripts (enqueue, XREADGROUP as a runner, complete/fail/cancel), and the ground truth."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from streamfn import partitions
from streamfn.keys import GROUP, Keys
from streamfn.names import new_invocation_id
from streamfn.outcomes import Completion
from streamfn.rdb import RDB

FN = "echo"
P = 2
QUEUES = partitions.queues(FN, P)
TAGS = ("red", "green", "blue", "v1.2")
SCHEDULES = ("nightly", "hourly")
STATUSES = ("scheduled", "queued", "running", "succeeded", "failed", "dead", "cancelled")


@dataclass
class Truth:
    """What the test wrote: id -> its status, tags, schedule and Idempotency-Key."""

    status: dict[str, str] = field(default_factory=dict)
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    schedule: dict[str, str] = field(default_factory=dict)
    idem: dict[str, str] = field(default_factory=dict)

    def ids(self) -> list[str]:
        return sorted(self.status, reverse=True)


def ms_of(invocation_id: str) -> int:
    return int(invocation_id.split(".")[1][:12], 16)


async def seed(rdb: RDB, keys: Keys, n: int, rng: random.Random, truth: Truth) -> None:
    """``n`` invocations over both queues, each ending in a status drawn at random.

    Ids are drawn first, interleaved in time; those that finish (or run) are enqueued and
    driven first, then the queued and scheduled ones are enqueued, so no runner reads them.
    """
    first: list[tuple[str, dict[str, Any]]] = []
    later: list[tuple[str, dict[str, Any]]] = []
    for i in range(n):
        status = rng.choice(STATUSES)
        inv = new_invocation_id(FN, partitions.code(P, i % P))
        options: dict[str, Any] = {"tags": tuple(rng.sample(TAGS, rng.randint(0, 2)))}
        if rng.random() < 0.2:
            options["extra"] = {"schedule": rng.choice(SCHEDULES)}
            truth.schedule[inv] = options["extra"]["schedule"]
        if rng.random() < 0.05:
            options["idempotency_key"] = truth.idem[inv] = f"key-{i}"
        if status == "scheduled":
            options["delay_ms"] = 3_600_000
        truth.status[inv], truth.tags[inv] = status, options["tags"]
        (later if status in ("queued", "scheduled") else first).append((inv, options))
    await enqueue_all(rdb, first)
    for inv, _ in first:
        if truth.status[inv] == "cancelled" and rng.random() < 0.5:
            assert (await rdb.cancel(inv))[0]  # before delivery: cancel.lua
    await drive(rdb, keys, truth.status)
    await enqueue_all(rdb, later)


async def enqueue_all(rdb: RDB, items: list[tuple[str, dict[str, Any]]]) -> None:
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        await asyncio.gather(*(rdb.enqueue(FN, inv, b"1", **o) for inv, o in chunk))


async def drive(rdb: RDB, keys: Keys, wanted: dict[str, str]) -> None:
    """Deliver every queued entry, as a runner would, and finish each as ``wanted`` says;
    "running" ones stay delivered and unfinished."""
    for q in QUEUES:
        while True:
            reply: Any = await rdb.redis.xreadgroup(GROUP, "r1", {keys.stream(q): ">"}, count=1000)
            if not reply or not reply[0][1]:
                break
            done = [
                _completion(q, entry.decode(), fields[b"id"].decode(), wanted)
                for entry, fields in reply[0][1]
                if wanted[fields[b"id"].decode()] != "running"
            ]
            for d in range(0, len(done), 200):
                await rdb.finish_many("r1", done[d : d + 200])


def _completion(queue: str, entry: str, inv: str, wanted: dict[str, str]) -> Completion:
    outcome = wanted[inv]
    if outcome == "succeeded":
        return Completion(queue, entry, inv, 1, result=b"1")
    if outcome == "cancelled":
        return Completion(queue, entry, inv, 1, error={"type": "C"}, mode="cancel")
    return Completion(
        queue, entry, inv, 1, error={"type": "E"}, mode="dead", dead_letter=outcome == "dead"
    )
