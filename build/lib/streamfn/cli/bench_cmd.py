"""``streamfn bench ...``: hands its arguments to the repository's benchmarks (``bench.cli``).

The bench is a repository tool with its own distribution (``bench/pyproject.toml``), not part
of the streamfn package: when it is missing we say how to install it instead of failing.
"""

from __future__ import annotations

import importlib.util
import sys

from streamfn.cli.edge import EXIT_USAGE

BENCH_EXTRA = ("matplotlib", "tqdm")
"""What the benchmarks need beyond streamfn (bench/pyproject.toml)."""
BENCH_HINT = (
    "the benchmarks are a repository tool, not part of the streamfn package: in a clone of "
    "streamfn run `make bench-install` (or `pip install -e ./bench` in its virtualenv), "
    "then `streamfn bench --help`"
)


def main(argv: list[str]) -> int:
    """Run ``python -m bench ARGV`` in this process; exit code."""
    missing = [name for name in BENCH_EXTRA if importlib.util.find_spec(name) is None]
    try:
        from bench.cli import main as bench_main
    except ImportError:
        missing.insert(0, "the bench package")
    if missing:
        print(f"streamfn bench: {', '.join(missing)} not installed; {BENCH_HINT}", file=sys.stderr)
        return EXIT_USAGE
    return bench_main(argv)
