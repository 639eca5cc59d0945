"""The ``idle`` workload, tiny, through real processes (a gateway, a runner and the scheduler
on the bench's own redis-server): it completes and writes every figure of its JSON.

It checks the figures are there and the checks were made, never what they were.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(200)
def test_quick_idle_run_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["idle", "--quick", "--n", "20", "--no-progress", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-3000:]}"
    result = json.loads((out / "results.json").read_text())["workloads"]["idle"]
    assert result["error"] is None
    assert result["params"]["sizes"] == [20]
    (repeat,) = result["repeats"]
    for figure in ("runner", "gateway", "background", "redis", "work"):
        assert repeat[f"n20_{figure}_cpu_pct"] >= 0
    assert repeat["n20_commands_per_s"] > 0
    assert [c["target"].split(":")[0] for c in result["checks"]] == ["target"]
    assert "20 functions, top commands:" in result["notes"][0]
