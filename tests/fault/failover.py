"""The Sentinel failover scenario: kill -9 the master under steady load, count the damage.

1 master, 1 replica, 3 sentinels (``down-after-milliseconds`` 1 s); 2 runners and a gateway
reach them through ``redis+sentinel://``.  At ``BEFORE`` s the master is SIGKILLed; once the
sentinels have promoted the replica, the dead node is started again (as a crashed host comes
back) and the sentinels turn it into the new master's replica.  The load goes on throughout.

Figures: the outage (from the kill to the first 202 after it), every status answered during
it, acknowledged invocations lost (a 202 whose record is not ``succeeded`` at the end),
duplicates (executions beyond the first), and the gateway and runners still the same pids.
Used by ``test_sentinel_failover.py`` (SF1) and, for repeated runs, ``python -m
tests.fault.sentinel_figures``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis
from redis.exceptions import RedisError

from tests.fault.checker import check, final_statuses
from tests.fault.harness import Stack
from tests.fault.load import Load

RATE = 150.0
BEFORE, AFTER = 2.0, 4.0
"""Seconds of load before the kill, and after the deployment is whole again."""
FAILOVER_TIMEOUT = 20.0
SETTLE_TIMEOUT = 30.0


async def sentinel_failover(stack: Stack, *, durable: bool, rate: float = RATE) -> dict[str, Any]:
    """Run the scenario on a ``sentinel=True`` stack; its figures."""
    deployment = stack.deployment
    assert deployment is not None
    stack.probe()
    for _ in range(2):
        stack.start_runner()
    env = {"STREAMFN_DURABLE_REPLICAS": "1"} if durable else {}
    gw = await stack.start_gateway(**env)
    await stack.runners_ready(2)
    load = Load(gw.url)
    stop = asyncio.Event()
    async with load:
        traffic = asyncio.create_task(invoke_until(load, rate, stop, {"sleep": 0.02}))
        await asyncio.sleep(BEFORE)
        old = deployment.current_master()
        killed = time.time()
        old.kill()
        promoted = await asyncio.to_thread(_wait_promoted, stack, old.port)
        await asyncio.to_thread(old.start)  # back as a replica, once the sentinels see it
        rejoined = await asyncio.to_thread(_wait_replica, stack)
        await asyncio.sleep(AFTER)
        stop.set()
        await traffic
    acked = load.history.acked
    finals = await settled(stack, acked)
    figures = check(acked, stack.executions(), finals)
    after = sorted(t for t, s in load.history.timeline if t > killed and s == 202)
    recovered = after[0] if after else None
    during = statuses_between(load, killed, recovered or time.time())
    return {
        "durable_replicas": 1 if durable else 0,
        "outage_s": round(recovered - killed, 2) if recovered else None,
        "promoted_after_s": round(promoted - killed, 2),
        "replica_back_after_s": round(rejoined - killed, 2),
        "statuses_during_outage": during,
        "statuses": dict(sorted(load.history.statuses.items())),
        "refusals": dict(sorted(load.history.codes.items())),
        "client_errors": dict(load.history.errors),
        "acked": figures["acked"],
        "lost": figures["lost"],
        "lost_sample": figures["lost_sample"],
        "duplicates": figures["duplicates"],
        "unacked_executed": figures["unacked_executed"],
        "same_pids": all(p.alive() for p in stack.runners + stack.gateways),
    }


async def invoke_until(load: Load, rate: float, stop: asyncio.Event, payload: Any) -> None:
    tasks: list[asyncio.Task[str | None]] = []
    while not stop.is_set():
        tasks.append(asyncio.create_task(load.invoke(payload)))
        await asyncio.sleep(1.0 / rate)
    await asyncio.gather(*tasks)


def _wait_promoted(stack: Stack, old_port: int) -> float:
    assert stack.deployment is not None
    deadline = time.monotonic() + FAILOVER_TIMEOUT
    while time.monotonic() < deadline:
        port = stack.deployment.master_port()
        if port is not None and port != old_port:
            return time.time()
        time.sleep(0.05)
    raise AssertionError(f"the sentinels promoted no replica within {FAILOVER_TIMEOUT:g} s")


def _wait_replica(stack: Stack) -> float:
    """Until the new master reports a connected, synced replica again."""
    assert stack.deployment is not None
    deadline = time.monotonic() + FAILOVER_TIMEOUT
    while time.monotonic() < deadline:
        port = stack.deployment.master_port()
        if port is not None and _has_online_replica(port):
            return time.time()
        time.sleep(0.05)
    raise AssertionError(f"the old master did not rejoin as a replica in {FAILOVER_TIMEOUT:g} s")


def _has_online_replica(port: int) -> bool:
    client = redis.Redis(port=port, socket_timeout=1.0)
    try:
        info: Any = client.info("replication")
    except (RedisError, OSError):
        return False
    finally:
        client.close()
    replica = info.get("slave0")
    return isinstance(replica, dict) and replica.get("state") == "online"


async def settled(stack: Stack, acked: dict[str, float | None]) -> dict[str, str | None]:
    """Final statuses once nothing acknowledged is still queued (or after the timeout)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        finals = await final_statuses(stack.redis, stack.keys, acked)
        if all(s in (None, "succeeded", "failed", "dead") for s in finals.values()):
            return finals
        if time.monotonic() > deadline:
            return finals
        await asyncio.sleep(0.1)


def statuses_between(load: Load, start: float, end: float) -> dict[int, int]:
    seen: dict[int, int] = {}
    for t, status in load.history.timeline:
        if start < t < end:
            seen[status] = seen.get(status, 0) + 1
    return dict(sorted(seen.items()))
