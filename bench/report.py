"""The stdout table and the JSON file of a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from bench.result import WorkloadResult


def fmt(name: str, value: float | None) -> str:
    """A figure formatted by the unit its name ends with."""
    if value is None:
        return "-"
    if name.endswith("_per_s"):
        return f"{value:,.0f}/s"
    if name.endswith("_pct"):
        return f"{value:.1f}%"
    if name.endswith("_ms"):
        return f"{value:.2f} ms"
    if name.endswith("_us") or "_us_" in name:
        return f"{value:,.1f} µs"
    if name.endswith("_s"):
        return f"{value:.3f} s"
    if name.endswith("_bytes") or name.endswith("bytes_per_timer"):
        return f"{value:,.0f} B"
    return f"{value:,.4g}"


def _spread(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def print_table(results: list[WorkloadResult], out: TextIO) -> None:
    """Headline figures (median, spread over repeats), checks, and the peers' comparison."""
    for r in results:
        out.write(f"\n== {r.name} ({len(r.repeats)} repeat(s)) ==\n")
        if r.error:
            out.write(f"  ERROR: {r.error}\n")
        summary = r.summary()
        for name in r.headline:
            s = summary.get(name, {})
            value = fmt(name, s.get("median"))
            out.write(f"  {name:<34} {value:>16}   spread {_spread(s.get('spread'))}\n")
        if r.systems:
            _systems(r.systems, out)
        for c in r.checks:
            mark = {True: "PASS", False: "FAIL", None: "n/a "}[c.passed]
            out.write(f"  [{mark}] {c.target}: {c.detail}\n")
        for note in r.notes:
            out.write(f"  note: {note}\n")


def _systems(rows: list[dict[str, Any]], out: TextIO) -> None:
    head = f"  {'system':<44} {'e2e jobs/s':>12} {'spread':>7} {'drain jobs/s':>13} {'spread':>7}"
    out.write(head + f" {'worker µs/job':>14} {'x fastest':>10}\n")
    for row in rows:
        if not row["ok_runs"]:
            out.write(f"  {row['label']:<44} {'MISSING' if row['missing'] else 'FAILED':>12}\n")
            continue
        ratio = row.get("e2e_ratio_to_fastest_peer")
        out.write(
            f"  {row['label'][:44]:<44} {fmt('e2e_per_s', row['e2e_per_s']):>12} "
            f"{_spread(row['e2e_per_s_spread']):>7} {fmt('drain_per_s', row['drain_per_s']):>13} "
            f"{_spread(row['drain_per_s_spread']):>7} "
            f"{fmt('cpu_us', row['worker_cpu_us_per_job_drain']):>14} "
            f"{'-' if ratio is None else f'{ratio:.2f}x':>10}\n"
        )


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
