"""Percentiles and the median/spread summary every figure is reported with."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def latency_figures(
    prefix: str, values_ms: Sequence[float], *, p999: bool = False
) -> dict[str, float | None]:
    """``{prefix}_p50_ms``, ``_p99_ms`` (and ``_p999_ms``), ``_max_ms`` of ``values_ms``."""
    out = {
        f"{prefix}_p50_ms": percentile(values_ms, 50),
        f"{prefix}_p99_ms": percentile(values_ms, 99),
    }
    if p999:
        out[f"{prefix}_p999_ms"] = percentile(values_ms, 99.9)
    out[f"{prefix}_max_ms"] = max(values_ms) if values_ms else None
    return out


def summarize(values: Sequence[float | None]) -> dict[str, float | None]:
    """Median, min, max and spread = (max - min) / median over the repeats that have a value."""
    present = [v for v in values if v is not None]
    if not present:
        return {"median": None, "min": None, "max": None, "spread": None}
    med = statistics.median(present)
    lo, hi = min(present), max(present)
    spread = (hi - lo) / med if med else None
    return {"median": med, "min": lo, "max": hi, "spread": spread}


def downsample(values: Sequence[float], keep: int = 2000) -> list[float]:
    """An evenly spaced subset of the sorted values: enough for a CDF, small in the JSON."""
    ordered = sorted(values)
    if len(ordered) <= keep:
        return ordered
    step = (len(ordered) - 1) / (keep - 1)
    return [ordered[round(i * step)] for i in range(keep)]
