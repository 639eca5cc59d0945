"""The bench's arithmetic: percentiles, median/spread."""

from __future__ import annotations

from bench.stats import downsample, percentile, summarize


def test_percentile_interpolates_and_handles_empty() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(101))), 99) == 99.0


def test_summarize_gives_median_and_spread_over_present_values() -> None:
    s = summarize([10.0, None, 12.0, 8.0])
    assert s == {"median": 10.0, "min": 8.0, "max": 12.0, "spread": 0.4}
    assert summarize([None])["median"] is None


def test_downsample_keeps_the_extremes() -> None:
    values = [float(v) for v in range(10_000, 0, -1)]
    kept = downsample(values, keep=100)
    assert len(kept) == 100
    assert kept[0] == 1.0
    assert kept[-1] == 10_000.0
