"""The Redis Cluster failover scenario: kill -9 a master under steady load, count the damage.

3 masters with a replica each (``cluster-node-timeout`` 2 s); 2 runners and a gateway find
the nodes from the first one's URL.  Two probe functions take the load: the *victim*, whose
shard lives on the master we kill, and the *bystander*, on another master.  Neither lives
with the runner registry, so the kill hits one function's work and nothing else.  At
``BEFORE`` s the victim's master is SIGKILLed; once its replica is promoted, the dead node
is started again (as a crashed host comes back) and the cluster makes it a replica.  The
load goes on throughout.

With ``durable``, the gateway runs with ``STREAMFN_DURABLE_REPLICAS=1``: a 202 only once the
enqueue's master's replica has it (one WAIT per master per batch).

Figures: the victim's outage (from its first non-2xx answer after the kill to its last),
every status each function was answered during it, acknowledged invocations lost (a 202
whose record is not ``succeeded`` at the end), duplicates (executions beyond the first), and
the gateway and runners still the same pids.  Used by ``test_cluster_failover.py`` (CF1,
CF1-durable) and, for repeated runs, ``python -m tests.fault.cluster_figures``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from redis.exceptions import RedisError

from streamfn.launch.cluster import PrivateCluster
from streamfn.names import function_of
from tests.fault.checker import check
from tests.fault.failover import AFTER, BEFORE, invoke_until, settled, statuses_between
from tests.fault.harness import Stack
from tests.fault.load import Load
from tests.fault.probe import Execution

RATE = 100.0
"""Invocations/s of the victim function; the bystander gets half that."""
FAILOVER_TIMEOUT = 30.0
CANDIDATES = 64


async def cluster_failover(
    stack: Stack, *, durable: bool = False, rate: float = RATE
) -> dict[str, Any]:
    """Run the scenario on a ``cluster=True`` stack; its figures."""
    cluster = stack.cluster
    assert cluster is not None
    registry = cluster.master_of(stack.keys.runners).port
    victim = _function(stack, lambda port: port != registry)
    victim_port = cluster.master_of(stack.keys.stream(victim)).port
    bystander = _function(stack, lambda port: port not in (registry, victim_port))
    for name in (victim, bystander):
        stack.probe(name)
    for _ in range(2):
        stack.start_runner()
    gw = await stack.start_gateway(**({"STREAMFN_DURABLE_REPLICAS": "1"} if durable else {}))
    for name in (victim, bystander):
        await stack.runners_ready(2, name)
    hit, spared = Load(gw.url, victim), Load(gw.url, bystander)
    stop = asyncio.Event()
    payload = {"sleep": 0.02}
    async with hit, spared:
        traffic = [
            asyncio.create_task(invoke_until(hit, rate, stop, payload)),
            asyncio.create_task(invoke_until(spared, rate / 2, stop, payload)),
        ]
        await asyncio.sleep(BEFORE)
        old = cluster.master_of(stack.keys.stream(victim))
        killed = time.time()
        old.kill()
        promoted = await asyncio.to_thread(
            _wait_promoted, cluster, stack.keys.stream(victim), old.port
        )
        await asyncio.to_thread(old.start)  # back as a replica of the promoted node
        await asyncio.to_thread(cluster.wait_ok, FAILOVER_TIMEOUT)
        rejoined = time.time()
        await asyncio.sleep(AFTER)
        stop.set()
        await asyncio.gather(*traffic)
    acked = {**hit.history.acked, **spared.history.acked}
    finals = await settled(stack, acked)
    figures = check(acked, stack.executions(), finals)
    refused = sorted(t for t, s in hit.history.timeline if t > killed and not 200 <= s < 300)
    first, last = (refused[0], refused[-1]) if refused else (killed, killed)
    after = sorted(t for t, s in hit.history.timeline if t > last and s == 202)  # recovered
    lost = [i for i in acked if finals.get(i) != "succeeded"]
    acked_at = {**hit.history.acked_at, **spared.history.acked_at}
    lost_at = [acked_at[i] - killed for i in lost]
    return {
        "durable_replicas": 1 if durable else 0,
        "outage_s": round(last - first, 2),
        "first_refusal_after_kill_s": round(first - killed, 2) if refused else None,
        "recovered_after_kill_s": round(after[0] - killed, 2) if after else None,
        "promoted_after_s": round(promoted - killed, 2),
        "node_back_after_s": round(rejoined - killed, 2),
        "victim_statuses_during_outage": statuses_between(hit, first - 1e-6, last + 1e-6),
        "bystander_statuses_during_outage": statuses_between(spared, first, last),
        "statuses": dict(sorted((hit.history.statuses + spared.history.statuses).items())),
        "refusals": dict(sorted((hit.history.codes + spared.history.codes).items())),
        "client_errors": dict(hit.history.errors + spared.history.errors),
        "acked": figures["acked"],
        "lost": figures["lost"],
        "lost_sample": figures["lost_sample"],
        "lost_statuses": dict(Counter(str(finals.get(i)) for i in lost)),
        "lost_acked_after_kill_s": _span(lost_at),
        "unfinished": sum(1 for s in finals.values() if s not in ("succeeded", "failed", "dead")),
        "duplicates": figures["duplicates"],
        "unacked_executed": figures["unacked_executed"],
        "unacked_executed_by_function": _unacked_by_function(acked, stack.executions()),
        "unacked_started_after_kill_s": _span(
            [e.start - killed for e in stack.executions() if e.id not in acked]
        ),
        "same_pids": all(p.alive() for p in stack.runners + stack.gateways),
    }


def _span(values: list[float]) -> list[float]:
    return [round(min(values), 2), round(max(values), 2)] if values else []


def _unacked_by_function(acked: dict[str, float | None], runs: list[Execution]) -> dict[str, int]:
    """Executed ids the client got no 202 for (a 503 after the enqueue ran), per function."""
    return dict(Counter(function_of(e.id) or "?" for e in runs if e.id not in acked))


def _names() -> Iterator[str]:
    yield "probe"
    for i in range(1, CANDIDATES):
        yield f"probe{i}"


def _function(stack: Stack, wanted: Any) -> str:
    """The first probe name whose shard's master port satisfies ``wanted(port)``."""
    assert stack.cluster is not None
    for name in _names():
        if wanted(stack.cluster.master_of(stack.keys.stream(name)).port):
            return name
    raise AssertionError(f"no probe name among {CANDIDATES} lives on the wanted master")


def _wait_promoted(cluster: PrivateCluster, key: str, old: int) -> float:
    """Until the slot of ``key`` is served by another node than the one on port ``old``."""
    deadline = time.monotonic() + FAILOVER_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if cluster.master_of(key).port != old:
                return time.time()
        except (LookupError, OSError, RedisError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"no replica was promoted within {FAILOVER_TIMEOUT:g} s")
