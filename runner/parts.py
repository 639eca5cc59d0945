"""Wiring: build every part of one runner from settings, connected to each other.

Kept apart from :mod:`runner.supervisor` (which owns start order, signals and shutdown) so
each reads on its own: this module says what talks to what, nothing about when.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import Keys
from streamfn.rdb import RDB
from streamfn.runner.announcer import Announcer
from streamfn.runner.cancellation import Canceller
from streamfn.runner.completer import Completer
from streamfn.runner.depth import StreamGaugeLoop
from streamfn.runner.discovery import Discovery
from streamfn.runner.executor import Executor
from streamfn.runner.faults import Faults
from streamfn.runner.health import Probes
from streamfn.runner.heartbeat import Heartbeat
from streamfn.runner.janitor import Janitor
from streamfn.runner.jobs import Leases
from streamfn.runner.lateness import ScheduleLateness, TimedExecutor
from streamfn.runner.metrics import Metrics
from streamfn.runner.metrics_server import MetricsServer
from streamfn.runner.pauses import Pauses
from streamfn.runner.reader import Reader
from streamfn.runner.reclaimer import Reclaimer
from streamfn.runner.scheduling import Scheduling
from streamfn.runner.shard_reader import BLOCK_MS, BURST_BLOCK_MS, READ_SOCKET_TIMEOUT_S
from streamfn.settings import Settings
from streamfn.timekeeping import Timekeeper
from streamfn.timekeeping.clock import RedisClock


@dataclass(frozen=True, slots=True)
class Parts:
    """Every component of one runner; the supervisor starts and stops them in order."""

    redis: AnyRedis
    reader_redis: AnyRedis
    rdb: RDB
    leases: Leases
    discovery: Discovery
    metrics: Metrics
    completer: Completer
    executor: Executor
    heartbeat: Heartbeat
    announcer: Announcer
    clock: RedisClock
    timekeeper: Timekeeper
    scheduling: Scheduling
    gauges: StreamGaugeLoop
    reader: Reader
    reclaimer: Reclaimer
    janitor: Janitor
    canceller: Canceller
    pauses: Pauses
    server: MetricsServer


def build(
    settings: Settings,
    *,
    consumer: str,
    concurrency: int,
    burst: bool,
    faults: Faults,
    probes: Probes | None = None,
) -> Parts:
    """Create (not start) the parts of a runner named ``consumer``; ``faults`` reaches every
    part with a crash point (:mod:`runner.faults`); ``probes`` are served with the metrics."""
    s = settings
    keys = Keys.of(s)
    redis = make_redis(s)
    # The reader's BLOCK would hold a pooled connection (READ_SOCKET_TIMEOUT_S: why that).
    reader_redis = make_redis(s, max_connections=2, socket_timeout=READ_SOCKET_TIMEOUT_S)
    rdb = RDB(redis, s)
    leases = Leases()
    discovery = Discovery(s)
    metrics = Metrics(discovery.functions.__contains__)
    completer = Completer(rdb, consumer, leases, metrics, faults=faults)
    executor = TimedExecutor(
        concurrency,
        leases,
        completer,
        metrics,
        log_level=s.log_level,
        max_result=s.max_result,
        log_max_bytes=s.log_max_bytes,
        faults=faults,
    )
    metrics.in_flight.set_function(lambda: executor.running)
    clock = RedisClock(redis)
    executor.lateness = ScheduleLateness(clock, metrics)
    scheduling = Scheduling(redis, keys, discovery)
    pauses = Pauses(redis, keys, rdb, consumer)
    reader = Reader(
        reader_redis,
        keys,
        consumer,
        discovery,
        executor,
        block_ms=BURST_BLOCK_MS if burst else BLOCK_MS,
        faults=faults,
        pauses=pauses,
    )
    return Parts(
        redis=redis,
        reader_redis=reader_redis,
        rdb=rdb,
        leases=leases,
        discovery=discovery,
        metrics=metrics,
        completer=completer,
        executor=executor,
        heartbeat=Heartbeat(rdb, consumer, leases, metrics, s.heartbeat_interval, faults=faults),
        announcer=Announcer(
            redis,
            keys,
            discovery,
            consumer,
            interval=s.heartbeat_interval,
            concurrency=concurrency,
            host=socket.gethostname(),
            now_ms=clock.now_ms,
            extra_errors=lambda: scheduling.declared.errors,
            leases=leases,
            in_flight=lambda: executor.running,
            paused=lambda: pauses.names,
        ),
        clock=clock,
        timekeeper=Timekeeper(rdb, redis, keys, clock, max_sleep=s.promote_interval),
        scheduling=scheduling,
        gauges=StreamGaugeLoop(redis, keys, discovery, metrics),
        reader=reader,
        canceller=Canceller(redis, keys, executor, leases),
        pauses=pauses,
        reclaimer=Reclaimer(
            rdb,
            s,
            consumer,
            discovery,
            executor,
            completer,
            leases,
            metrics,
            faults=faults,
            pauses=pauses,
        ),
        janitor=Janitor(rdb, redis, keys, s, consumer, discovery, metrics),
        server=MetricsServer(metrics.registry, s.host, s.runner_metrics_port, probes),
    )
