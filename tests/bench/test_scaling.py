"""The ``scaling`` workload's multi-master part, tiny, through real processes: once on the
private 3-master cluster the bench starts itself, once with ``--redis-url`` naming a cluster
this test started (then every other workload that runs on a cluster comes along, and every
master must be empty afterwards: the bench dropped its namespaces on each of them).

It checks that each master's share is there and the shares add up, and that every function's
invocations all finished; never how fast anything was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis

from streamfn.launch.cluster import PrivateCluster

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {"spread_m1": 1, "spread_m3": 3, "hot_p1": 3, "hot_p3": 3}

pytestmark = pytest.mark.e2e


def bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--quick", "--no-progress", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-3000:]}"
    doc: dict[str, Any] = json.loads((out / "results.json").read_text())
    return doc


def check_masters(scaling: dict[str, Any]) -> None:
    assert scaling["error"] is None, scaling["error"]
    (rep,) = scaling["repeats"]
    n = scaling["params"]["n"]
    for variant, count in VARIANTS.items():
        for share in ("cmd_pct", "cpu_pct"):
            values = [rep[f"{variant}_master{i}_{share}"] for i in range(1, count + 1)]
            assert None not in values, (variant, share, values)
            assert sum(values) == pytest.approx(100.0, abs=0.01), (variant, share, values)
            assert f"{variant}_master{count + 1}_{share}" not in rep
        params = scaling["params"][variant]
        assert params["masters"] == count
        assert rep[f"{variant}_succeeded"] == n, variant
        assert rep[f"{variant}_functions_done"] == len(params["functions"]), variant
    spread = scaling["params"]["spread_m3"]["functions"]
    assert len(spread) == 9
    on = sorted(f["masters"][0] for f in spread.values())
    assert on == ["master1"] * 3 + ["master2"] * 3 + ["master3"] * 3
    assert len({f["shard"] for f in spread.values()}) == 9
    assert list(scaling["params"]["spread_m1"]["functions"]) == list(spread)
    assert scaling["params"]["hot_p3"]["partitions"] == 3
    assert [c["target"] for c in scaling["checks"]] == [
        "target: PARTITIONS = 3 spreads one function's commands over 3 masters "
        "within ±15% of 33.3% each"
    ]


@pytest.mark.timeout(300)
def test_scaling_starts_its_own_cluster(tmp_path: Path) -> None:
    doc = bench(tmp_path, "scaling")
    scaling = doc["workloads"]["scaling"]
    assert scaling["params"]["started"] == "a private 3-master cluster"
    check_masters(scaling)


@pytest.mark.timeout(300)
def test_redis_url_naming_a_cluster(tmp_path: Path) -> None:
    with PrivateCluster(masters=3) as cluster:
        doc = bench(tmp_path, "drain,scaling", "--redis-url", cluster.url)
        ports = cluster.ports
        left = {}
        for port in ports:
            with redis.Redis(port=port) as node:
                left[port] = node.dbsize()
    assert doc["machine"]["redis_masters"] == 3
    scaling = doc["workloads"]["scaling"]
    assert scaling["params"]["started"] == "a private redis-server"
    check_masters(scaling)
    drain = doc["workloads"]["drain"]
    assert drain["error"] is None, drain["error"]
    assert drain["repeats"][0]["succeeded"] == drain["params"]["n"]
    assert drain["repeats"][0]["redis_cpu_us_per_inv"] > 0
    assert left == dict.fromkeys(ports, 0), "the bench left keys behind"
