"""Which peers are measured, at which pinned versions, with which worker settings.

The peers pin incompatible redis-py ranges (arq 0.28 wants redis<6, saq 0.26 redis<8,
taskiq-redis 1.2 redis>=8), so one ``pip install`` cannot hold them all: each peer gets its own
virtualenv (:mod:`bench.peers.venvs`), and its adapter runs there.  The versions and settings
are those of the reference measurements in ``shared/research/perf-anchors.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

CONCURRENCY = 10  # arq's and saq's default; every Python peer gets the same


@dataclass(frozen=True, slots=True)
class PeerSpec:
    """One peer: ``requirements`` are pip pins (Python) or npm specs (Node)."""

    name: str
    label: str
    kind: str  # "python" | "node"
    requirements: tuple[str, ...]
    settings: str
    db: int  # the Redis database it alone uses on the bench's private server

    @property
    def adapter(self) -> str:
        return f"bench.peers.adapters.{self.name}_peer"


_HIREDIS = "hiredis==3.5.0"

PEERS: tuple[PeerSpec, ...] = (
    PeerSpec(
        "bullmq",
        "BullMQ",
        "node",
        ("bullmq@6.7.0", "ioredis@6.0.0"),
        "one Worker process, concurrency 10, completed jobs kept (default)",
        1,
    ),
    PeerSpec(
        "taskiq",
        "taskiq + taskiq-redis (RedisStreamBroker)",
        "python",
        ("taskiq==0.13.0", "taskiq-redis==1.2.4", "redis==8.1.0", _HIREDIS),
        "taskiq worker --workers 1 --max-async-tasks 10, ack when saved, no result backend, "
        "socket_timeout 60 s (redis-py's 5 s kills a worker frozen for the drain)",
        2,
    ),
    PeerSpec(
        "dramatiq",
        "dramatiq (RedisBroker)",
        "python",
        ("dramatiq[redis]==2.2.1", "redis==8.1.0", _HIREDIS),
        "dramatiq --processes 1 --threads 10, default middleware",
        3,
    ),
    PeerSpec(
        "saq",
        "saq",
        "python",
        ("saq==0.26.4", "redis==7.4.1", "typing_extensions>=4.8", _HIREDIS),
        "Worker(concurrency=10), job state kept (default)",
        4,
    ),
    PeerSpec(
        "arq",
        "arq (poll_delay 0.05)",
        "python",
        ("arq==0.28.0", "redis==5.3.1", _HIREDIS),
        "max_jobs=10, poll_delay=0.05 (default 0.5 caps a live queue at 200 jobs/s), results kept",
        5,
    ),
    PeerSpec(
        "celery",
        "Celery (solo pool)",
        "python",
        ("celery[redis]==5.7.0", "kombu==5.7.0", "redis==8.1.0", _HIREDIS),
        "celery worker -P solo (one job at a time, no child processes), no result backend",
        6,
    ),
)

BY_NAME = {p.name: p for p in PEERS}
