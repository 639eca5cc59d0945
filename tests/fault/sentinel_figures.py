"""Repeated Sentinel failover runs and the latency cost of durable acknowledgement.

``python -m tests.fault.sentinel_figures [--runs 3] [--latency 2000]`` runs the SF1 scenario
(:mod:`tests.fault.failover`) ``runs`` times with durable acknowledgement off and on, then
times ``POST /invoke`` (async accept) through two gateways on one local master with one
replica, ``STREAMFN_DURABLE_REPLICAS=0`` and ``=1``, requests interleaved one at a time.
It prints JSON; docs/reliability.md quotes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp

from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.registry import RunnerReport, publish
from streamfn.settings import DEFAULTS, Settings
from tests.fault.failover import sentinel_failover
from tests.fault.harness import Stack
from tests.support.procs import start_gateway
from tests.support.replicas import master_with_replica

WARMUP = 100
"""Requests per gateway not counted."""


def scenario_settings(tmp: Path) -> Settings:
    """The fault tests' settings (tests/conftest.py) in a fresh namespace, for a Stack."""
    functions = tmp / "functions"
    functions.mkdir(exist_ok=True)
    return replace(
        DEFAULTS,
        namespace="s" + uuid.uuid4().hex[:12],
        functions_dir=functions,
        visibility_timeout=2.0,
        claim_interval=0.25,
        shutdown_grace=2.0,
        runner_metrics_port=0,
        port=0,
    )


async def failovers(runs: int) -> dict[str, list[dict[str, Any]]]:
    """``runs`` SF1 runs with durable acknowledgement off and on, alternating."""
    out: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    for _ in range(runs):
        for mode in ("off", "on"):
            with tempfile.TemporaryDirectory(prefix="streamfn-sf1-") as tmp:
                stack = Stack(scenario_settings(Path(tmp)), Path(tmp), sentinel=True)
                try:
                    out[mode].append(await sentinel_failover(stack, durable=mode == "on"))
                finally:
                    await stack.close()
    return out


async def latency(count: int) -> dict[str, dict[str, float]]:
    """p50/p99 (ms) of POST /invoke/echo through each gateway, requests alternating."""
    with master_with_replica() as (master, _), tempfile.TemporaryDirectory() as tmp:
        settings = replace(scenario_settings(Path(tmp)), redis_url=master.url)
        redis = make_redis(settings)
        policy = {"timeout": 60.0, "retries": 0, "kind": "async"}
        report = RunnerReport("bench", {"echo": policy}, {}, "bench", 1, 10)
        await publish(
            redis, Keys(settings.namespace), report, ttl_s=600, now_ms=int(time.time() * 1000)
        )
        gateways: list[Child] = []
        times: dict[str, list[float]] = {"0": [], "1": []}
        try:
            for replicas in ("0", "1"):
                gw = await start_gateway(settings, Path(tmp), STREAMFN_DURABLE_REPLICAS=replicas)
                gateways.append(gw)
            await asyncio.sleep(1.0)  # each catalog lists echo (refreshed every 0.5 s)
            async with aiohttp.ClientSession() as http:
                for i in range(2 * (count + WARMUP)):
                    mode = "01"[i % 2]
                    url = f"{gateways[int(mode)].url}/invoke/echo"
                    began = time.perf_counter()
                    async with http.post(url, json=i) as r:
                        await r.read()
                        assert r.status == 202, (r.status, await r.text())
                    if i >= 2 * WARMUP:
                        times[mode].append((time.perf_counter() - began) * 1000)
        finally:
            for gw in gateways:
                gw.stop(10)
            await redis.aclose()
    return {f"durable_replicas={m}": percentiles(v) for m, v in times.items()}


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100)
    return {"n": len(values), "p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3)}


async def main(runs: int, count: int) -> dict[str, Any]:
    return {"latency": await latency(count), "failover": await failovers(runs)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Sentinel failover and durable-ack figures")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=int, default=2000, help="requests per gateway")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.runs, args.latency)), indent=1))
