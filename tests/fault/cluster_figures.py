"""Repeated Redis Cluster failover runs.

``python -m tests.fault.cluster_figures [--runs 3]`` runs the CF1 scenario
(:mod:`tests.fault.cluster_failover`: 3 masters with a replica each, one master killed with
SIGKILL under load) ``runs`` times, each on a fresh cluster, and prints JSON;
docs/reliability.md quotes it.  Durable acknowledgement is refused on a cluster for now, so
there is only the one mode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from tests.fault.cluster_failover import cluster_failover
from tests.fault.harness import Stack
from tests.fault.sentinel_figures import scenario_settings


async def failovers(runs: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="streamfn-cf1-") as tmp:
            stack = Stack(scenario_settings(Path(tmp)), Path(tmp), cluster=True)
            try:
                out.append(await cluster_failover(stack))
            finally:
                await stack.close()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Redis Cluster failover figures (CF1)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(failovers(args.runs)), indent=1))
