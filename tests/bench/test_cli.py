"""The bench's command line: the runner concurrency reaches every runner it starts."""

from __future__ import annotations

from pathlib import Path

from bench.cli import parse
from bench.harness import Harness


def test_runner_concurrency_sets_the_runners_setting(tmp_path: Path) -> None:
    options = parse(["drain", "--runner-concurrency", "200"])
    assert options.runner_concurrency == 200
    env = Harness(options, "redis://127.0.0.1:1/0", True, tmp_path).environ("bench-x")
    assert env["STREAMFN_CONCURRENCY"] == "200"


def test_without_it_runners_get_the_default(tmp_path: Path) -> None:
    options = parse(["drain"])
    env = Harness(options, "redis://127.0.0.1:1/0", True, tmp_path).environ("bench-x")
    assert "STREAMFN_CONCURRENCY" not in env
