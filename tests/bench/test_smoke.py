"""Smoke test of the benchmark suite: a few hundred invocations end to end, through real
gateway and runner processes on the bench's own redis-server.

It asserts that the bench completes and writes its JSON, never how fast anything was.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = ("floor", "http-throughput", "client-throughput", "drain", "drain-logs")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (ROOT / "gateway" / "app.py").exists()
        or not (ROOT / "runner" / "supervisor.py").exists(),
        reason="the bench drives gateway/app.py and runner/supervisor.py, not written yet",
    ),
]


@pytest.mark.timeout(300)
def test_quick_bench_completes_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            ",".join(WORKLOADS),
            "--quick",
            "--no-progress",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-3000:]}"
    assert "floor: all 300 completed within 10 s" in done.stdout

    doc = json.loads((out / "results.json").read_text())
    assert {"schema", "started_at", "machine", "config", "workloads"} <= doc.keys()
    for key in ("cpu_model", "cores", "python", "redis_version", "commit"):
        assert key in doc["machine"]
    assert doc["config"]["quick"] is True
    assert set(doc["workloads"]) == set(WORKLOADS)
    for name, result in doc["workloads"].items():
        assert result["error"] is None, f"{name}: {result['error']}"
        assert len(result["repeats"]) == 1
        assert {"measures", "params", "summary", "checks", "headline"} <= result.keys()
        assert result["repeats"][0]["succeeded"] == result["params"]["n"]
    floor = doc["workloads"]["floor"]["summary"]
    for figure in ("total_s", "completed_per_s", "accepted_per_s", "http_p99_ms"):
        assert floor[figure]["median"] is not None
    assert doc["workloads"]["drain"]["summary"]["runner_cpu_us_per_inv"]["median"] is not None
    http = doc["workloads"]["http-throughput"]
    (target,) = http["checks"]
    if shutil.which("wrk"):
        for figure in ("wrk_accepted_per_s", "wrk_http_p99_ms", "bare_aiohttp_per_s"):
            assert http["summary"][figure]["median"] is not None, figure
        assert http["repeats"][0]["wrk_accepted"] > 0
        assert "wrk, 64 connections" in target["detail"]
    else:
        assert any("wrk is not installed" in note for note in http["notes"])
        assert "Python client" in target["detail"]
