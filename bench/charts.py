"""PNG charts next to the JSON: throughput by system (bars) and latency CDFs.

Needs matplotlib (the ``bench`` extra); without it the run says so and writes no charts.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from bench.result import WorkloadResult

# Our own workloads' rates, charted when no peers result exists; a rate absent from the
# results (wrk not installed, workload not run) is left out.
_OWN_RATES = (
    ("floor", "completed_per_s", "floor: HTTP, completed/s"),
    ("http-throughput", "accepted_per_s", "HTTP accepted/s"),
    ("http-throughput", "wrk_accepted_per_s", "HTTP accepted/s (wrk)"),
    ("http-throughput", "bare_aiohttp_per_s", "ceiling: bare aiohttp, no Redis (wrk)"),
    ("client-throughput", "enqueued_per_s", "client enqueued/s"),
    ("drain", "drain_per_s", "runner drain/s"),
)


def _pyplot() -> Any:
    mpl = importlib.import_module("matplotlib")
    mpl.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def write_charts(results: list[WorkloadResult], directory: Path) -> list[str]:
    """Write what the results support; returns the file names (empty without matplotlib)."""
    try:
        plt = _pyplot()
    except ImportError:
        return []
    written = []
    if _throughput(plt, results, directory / "throughput.png"):
        written.append("throughput.png")
    if _cdf(plt, results, directory / "latency_cdf.png"):
        written.append("latency_cdf.png")
    return written


def _throughput(plt: Any, results: list[WorkloadResult], path: Path) -> bool:
    peers = next((r for r in results if r.name == "peers" and r.systems), None)
    if peers is not None:
        rows = [r for r in peers.systems if r["ok_runs"]]
        labels = [r["system"] for r in rows]
        series = [
            ("end to end", [r["e2e_per_s"] or 0 for r in rows]),
            ("drain (worker alone)", [r["drain_per_s"] or 0 for r in rows]),
        ]
        title = f"jobs/s by system, {peers.params.get('n', 0):,} no-op jobs, 1 worker process"
    else:
        by_name = {r.name: r for r in results}
        own = [(label, by_name[w].median(fig)) for w, fig, label in _OWN_RATES if w in by_name]
        own = [(label, v) for label, v in own if v]
        if not own:
            return False
        labels = [label for label, _ in own]
        series = [("median", [v or 0.0 for _, v in own])]
        title = "streamfn throughput (invocations/s)"
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(labels)), 5))
    width = 0.8 / len(series)
    for k, (name, values) in enumerate(series):
        xs = [i + k * width for i in range(len(labels))]
        bars = ax.bar(xs, values, width, label=name)
        for bar, label in zip(bars, labels, strict=True):
            if label.startswith("ceiling"):  # not streamfn's rate: what HTTP alone allows
                bar.set_hatch("//")
                bar.set_alpha(0.5)
    ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))])
    ax.set_xticklabels(labels, fontsize=8, rotation=20, ha="right")
    ax.set_ylabel("per second (median of repeats)")
    ax.set_title(title, fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _cdf(plt: Any, results: list[WorkloadResult], path: Path) -> bool:
    series = [(f"{r.name}: {k}", v) for r in results for k, v in r.samples.items() if v]
    if not series:
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, values in series:
        ordered = sorted(max(v, 0.1) for v in values)
        ys = [(i + 1) / len(ordered) for i in range(len(ordered))]
        ax.plot(ordered, ys, label=label, linewidth=1.2)
    ax.set_xscale("log")
    ax.set_xlabel("latency, ms (log scale; 0 ms, below the clock's resolution, drawn at 0.1)")
    ax.set_ylabel("fraction of invocations")
    ax.set_title("latency CDF (median repeat of each workload)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
