"""LogLines keeps the last lines within its bound and counts the rest; ctx.log copies what it
logs at the capture level into it, and still logs through the function's logger."""

from __future__ import annotations

import io
import logging

import pytest

from streamfn.context import Context
from streamfn.log_lines import LINE_OVERHEAD, LogLines, StreamCapture


def test_the_last_lines_are_kept_and_the_dropped_counted() -> None:
    lines = LogLines(1, 10 * (LINE_OVERHEAD + 3))
    for i in range(25):
        lines.add("INFO", "log", f"{i:03d}", ts_ms=i)
    assert [line[3] for line in lines.lines] == [f"{i:03d}" for i in range(15, 25)]
    assert (lines.dropped_lines, lines.dropped_bytes) == (15, 15 * (LINE_OVERHEAD + 3))
    assert lines.size <= lines.max_bytes


def test_one_line_larger_than_the_bound_is_cut_to_fit() -> None:
    lines = LogLines(1, 1000)
    lines.add("INFO", "log", "é" * 5000)
    (kept,) = lines.lines
    assert len(kept[3].encode()) <= 1000 - LINE_OVERHEAD
    assert lines.size <= 1000


def test_ctx_log_captures_at_its_level_and_still_logs(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("streamfn.fn.test_capture")
    ctx = Context("f." + "0" * 24, "f", 2, 0.0, logger, 4096, logging.INFO)
    assert ctx.captured is None, "nothing is built before the handler logs"
    with caplog.at_level(logging.DEBUG, logger.name):
        ctx.log.debug("below the capture level")
        ctx.log.info("n=%d", 3)
        ctx.log.warning("w")
    assert ctx.captured is not None and ctx.captured.attempt == 2
    assert [(line[1], line[2], line[3]) for line in ctx.captured.lines] == [
        ("INFO", "log", "n=3"),
        ("WARNING", "log", "w"),
    ]
    assert [r.getMessage() for r in caplog.records] == ["below the capture level", "n=3", "w"]
    assert all(getattr(r, "invocation_id", None) == ctx.invocation_id for r in caplog.records)
    assert {r.filename for r in caplog.records} == {"test_log_lines.py"}, "the caller's line"


def test_capture_off_keeps_nothing() -> None:
    ctx = Context("f." + "0" * 24, "f", 1, 0.0, logging.getLogger("streamfn.fn.off"), 0)
    ctx.log.warning("x")
    assert ctx.captured is None


def test_stream_capture_splits_lines_and_passes_writes_on() -> None:
    real = io.StringIO()
    lines = LogLines(1, 4096)
    out = StreamCapture(real, "stdout", lines)
    out.write("a\nb")
    out.write("c\n\nd")
    out.close_line()
    assert real.getvalue() == "a\nbc\n\nd"
    assert [(line[1], line[2], line[3]) for line in lines.lines] == [
        ("INFO", "stdout", "a"),
        ("INFO", "stdout", "bc"),
        ("INFO", "stdout", ""),
        ("INFO", "stdout", "d"),
    ]
