"""``python -m bench [WORKLOAD] [--n N] [--runners R] [--repeat K] [--redis-url URL] [--out DIR]
[--quick]``: run workloads, print the table, write JSON and charts.

:func:`main` is also what ``streamfn bench ...`` calls.  Exit status: 0 when every workload
ran (whatever its figures), 1 when one could not run, 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import workloads
from bench.charts import write_charts
from bench.handlers import write_functions
from bench.harness import Harness, Options
from bench.machine import ROOT, describe
from bench.report import print_table, write_json
from bench.result import WorkloadResult
from streamfn.cli import edge
from streamfn.connection import make_redis
from streamfn.launch import PrivateRedis
from streamfn.settings import DEFAULTS

RESULTS = ROOT / "bench" / "results"


def parse(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "workload",
        nargs="?",
        default="all",
        help=f"one of: all, {', '.join(workloads.ORDER)} (default: all)",
    )
    p.add_argument(
        "--n", type=edge.positive_int, help="invocations per repeat (default: per workload)"
    )
    p.add_argument(
        "--runners", type=edge.positive_int, default=1, help="runner processes (default 1)"
    )
    p.add_argument(
        "--repeat", type=edge.positive_int, default=3, help="measured repeats (default 3)"
    )
    p.add_argument(
        "--redis-url",
        help="use this Redis (own namespace, never flushed) "
        "instead of starting a private redis-server",
    )
    p.add_argument("--out", type=Path, help="results dir (default bench/results/<timestamp>)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a few hundred invocations, 1 repeat, no peers (the smoke test)",
    )
    p.add_argument(
        "--concurrency",
        type=edge.positive_int,
        default=64,
        help="HTTP connections of the load generator (default 64)",
    )
    p.add_argument(
        "--runner-concurrency",
        type=edge.positive_int,
        metavar="C",
        help=f"STREAMFN_CONCURRENCY of every runner (default {DEFAULTS.concurrency})",
    )
    p.add_argument("--peers", help="comma-separated subset of peers (default: all)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    a = p.parse_args(argv)
    if a.workload == "all":
        chosen = tuple(w for w in workloads.ORDER if not (a.quick and w == "peers"))
    else:
        chosen = tuple(w.strip() for w in a.workload.split(",") if w.strip())
        unknown = [w for w in chosen if w not in workloads.ORDER]
        if unknown or not chosen:
            p.error(f"unknown workload {unknown}; choose from: all, {', '.join(workloads.ORDER)}")
    return Options(
        workloads=chosen,
        n=a.n,
        runners=a.runners,
        repeat=a.repeat,
        redis_url=a.redis_url,
        out=a.out,
        quick=a.quick,
        concurrency=a.concurrency,
        peers=tuple(x.strip() for x in a.peers.split(",") if x.strip()) if a.peers else None,
        progress=not a.no_progress,
        runner_concurrency=a.runner_concurrency,
    )


def main(argv: list[str] | None = None) -> int:
    try:
        options = parse(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = options.out or RESULTS / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="streamfn-bench-") as tmp:
        server = (
            None
            if options.redis_url
            else PrivateRedis(args=("--databases", "32"), hint="or pass --redis-url")
        )
        try:
            if server is not None:
                server.start()
            url = options.redis_url or (server.url if server else "")
            harness = Harness(options, url, server is not None, Path(tmp))
            write_functions(harness.functions_dir)
            document = _run(harness, stamp)
        except RuntimeError as exc:  # redis-server missing or not starting
            print(f"bench: {exc}", file=sys.stderr)
            return 1
        finally:
            if server is not None:
                server.stop()
    results: list[WorkloadResult] = document.pop("_results")
    print_table(results, sys.stdout)
    document["charts"] = write_charts(results, out_dir)
    if not document["charts"]:
        print("\n(no charts: install the bench's needs: make bench-install)")
    path = out_dir / "results.json"
    write_json(path, document)
    print(f"\nresults: {path}")
    return 1 if any(r.error and not r.error.startswith("skipped") for r in results) else 0


def _run(h: Harness, stamp: str) -> dict[str, Any]:
    return edge.run(_run_async(h, stamp))


async def _run_async(h: Harness, stamp: str) -> dict[str, Any]:
    from dataclasses import replace

    redis = make_redis(replace(DEFAULTS, redis_url=h.redis_url))
    try:
        machine = await describe(redis)
    finally:
        await redis.aclose()
    results: list[WorkloadResult] = []
    started = time.monotonic()
    for name in h.options.workloads:
        print(f"bench: {name}: {workloads.describe(name)}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        try:
            result = await workloads.load(name)(h)
        except Exception as exc:  # one workload failing must not lose the others' figures
            result = WorkloadResult(
                name, workloads.describe(name), error=f"{type(exc).__name__}: {exc}"
            )
        result.params["wall_s"] = round(time.monotonic() - t0, 2)
        results.append(result)
    machine["peers"] = {
        row["system"]: row.get("versions")
        for r in results
        for row in r.systems
        if not row["system"].startswith("streamfn")
    }
    return {
        "schema": 1,
        "started_at": stamp,
        "wall_s": round(time.monotonic() - started, 2),
        "machine": machine,
        "config": {
            "workloads": list(h.options.workloads),
            "n": h.options.n,
            "runners": h.options.runners,
            "repeat": h.repeats,
            "quick": h.options.quick,
            "concurrency": h.options.concurrency,
            "runner_concurrency": h.options.runner_concurrency or DEFAULTS.concurrency,
            "own_redis": h.own_redis,
        },
        "workloads": {r.name: r.to_json() for r in results},
        "_results": results,
    }
