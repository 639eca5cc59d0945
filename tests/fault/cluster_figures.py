"""Repeated Redis Cluster failover runs, and the latency cost of durable acknowledgement there.

``python -m tests.fault.cluster_figures [--runs 3] [--latency 2000] [--concurrency 48]`` runs
the CF1 scenario (:mod:`tests.fault.cluster_failover`: 3 masters with a replica each, one
master killed with SIGKILL under load) ``runs`` times with durable acknowledgement off and on
(``STREAMFN_DURABLE_REPLICAS=1``), alternating, each on a fresh cluster; then times
``POST /invoke`` with it off and on (:mod:`tests.fault.cluster_latency`).  It prints JSON;
docs/reliability.md quotes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from tests.fault.cluster_failover import cluster_failover
from tests.fault.cluster_latency import latency
from tests.fault.harness import Stack
from tests.fault.sentinel_figures import scenario_settings


async def failovers(runs: int) -> dict[str, list[dict[str, Any]]]:
    """``runs`` CF1 runs with durable acknowledgement off and on, alternating."""
    out: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    for _ in range(runs):
        for mode in ("off", "on"):
            with tempfile.TemporaryDirectory(prefix="streamfn-cf1-") as tmp:
                stack = Stack(scenario_settings(Path(tmp)), Path(tmp), cluster=True)
                try:
                    out[mode].append(await cluster_failover(stack, durable=mode == "on"))
                finally:
                    await stack.close()
    return out


async def main(runs: int, count: int, concurrency: int) -> dict[str, Any]:
    return {"latency": await latency(count, concurrency), "failover": await failovers(runs)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Redis Cluster failover and durable-ack figures")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=int, default=2000, help="sequential requests per gateway")
    parser.add_argument("--concurrency", type=int, default=48, help="requests in flight per burst")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.runs, args.latency, args.concurrency)), indent=1))
