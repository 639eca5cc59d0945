"""The latency cost of durable acknowledgement on a Redis Cluster.

One private cluster (3 masters, a replica each), two gateways on it, one with
``STREAMFN_DURABLE_REPLICAS=0`` and one with ``=1``, and three functions, one per master.
Two measures, each with the two gateways taking turns so both see the same machine:

* **sequential**: ``POST /invoke/<fn>`` (async accept) one at a time, gateways alternating
  request by request, functions in turn: a batch of one, so one master's round trip and,
  durable, its WAIT;
* **concurrent**: bursts of ``concurrency`` requests in flight, gateways alternating burst by
  burst: the gateway coalesces them into batches that reach every master, one WAIT each.

Run by ``python -m tests.fault.cluster_figures``; docs/reliability.md quotes it.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp

from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.launch.cluster import PrivateCluster
from streamfn.registry import RunnerReport, publish
from tests.fault.sentinel_figures import WARMUP, percentiles, scenario_settings
from tests.support.cluster_nodes import function_on, masters
from tests.support.procs import start_gateway

MODES = ("0", "1")
"""``STREAMFN_DURABLE_REPLICAS`` of the two gateways."""
BURSTS = 20
"""Bursts per gateway in the concurrent measure (after one of warm-up)."""


async def latency(count: int, concurrency: int) -> dict[str, Any]:
    """Sequential and concurrent p50/p99 (ms) per ``STREAMFN_DURABLE_REPLICAS``."""
    with PrivateCluster(masters=3, replicas=1) as cluster, tempfile.TemporaryDirectory() as tmp:
        settings = replace(scenario_settings(Path(tmp)), redis_url=cluster.url)
        keys = Keys(settings.namespace)
        functions = [function_on(cluster, keys, m) for m in masters(cluster)]
        redis = make_redis(settings)
        policy = {"timeout": 60.0, "retries": 0, "kind": "async"}
        report = RunnerReport("bench", dict.fromkeys(functions, policy), {}, "bench", 1, 10)
        await publish(redis, keys, report, ttl_s=600)
        gateways: list[Child] = []
        try:
            for replicas in MODES:
                gw = await start_gateway(settings, Path(tmp), STREAMFN_DURABLE_REPLICAS=replicas)
                gateways.append(gw)
            await asyncio.sleep(1.0)  # each catalog lists the functions (refreshed every 0.5 s)
            urls = [gw.url for gw in gateways]
            async with aiohttp.ClientSession() as http:
                sequential = await _sequential(http, urls, functions, count)
                concurrent = await _concurrent(http, urls, functions, concurrency)
        finally:
            for gw in gateways:
                gw.stop(10)
            await redis.aclose()
    return {"sequential": sequential, "concurrent": concurrent}


async def _post(http: aiohttp.ClientSession, url: str, body: int) -> float:
    """One accepted invocation; its latency in ms."""
    began = time.perf_counter()
    async with http.post(url, json=body) as r:
        await r.read()
        assert r.status == 202, (r.status, await r.text())
    return (time.perf_counter() - began) * 1000


async def _sequential(
    http: aiohttp.ClientSession, urls: list[str], functions: list[str], count: int
) -> dict[str, dict[str, float]]:
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for i in range(len(MODES) * (count + WARMUP)):
        mode = i % len(MODES)
        function = functions[(i // len(MODES)) % len(functions)]
        took = await _post(http, f"{urls[mode]}/invoke/{function}", i)
        if i >= len(MODES) * WARMUP:
            times[MODES[mode]].append(took)
    return {f"durable_replicas={m}": percentiles(v) for m, v in times.items()}


async def _concurrent(
    http: aiohttp.ClientSession, urls: list[str], functions: list[str], concurrency: int
) -> dict[str, dict[str, float]]:
    times: dict[str, list[float]] = {m: [] for m in MODES}
    spent: dict[str, float] = dict.fromkeys(MODES, 0.0)
    for burst in range(1 + BURSTS):
        for mode, url in zip(MODES, urls, strict=True):
            began = time.perf_counter()
            took = await asyncio.gather(
                *(
                    _post(http, f"{url}/invoke/{functions[i % len(functions)]}", i)
                    for i in range(concurrency)
                )
            )
            if burst:  # the first burst warms the connections up
                spent[mode] += time.perf_counter() - began
                times[mode].extend(took)
    return {
        f"durable_replicas={m}": {
            **percentiles(v),
            "invocations_per_s": round(len(v) / spent[m]),
            "in_flight": concurrency,
        }
        for m, v in times.items()
    }
