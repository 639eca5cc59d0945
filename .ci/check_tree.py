#!/usr/bin/env python3
"""Fail on a corrupted tree: a tracked text file over 1 MiB, or a Markdown file that holds
the same paragraph more than twice.

Run by ``make lint`` (so by ``make test`` and CI).  A document mangled by a bad edit (a
paragraph pasted between every character of the original made bench/README.md 17.5 MB once)
must fail CI, not ship.  Usage: ``python .ci/check_tree.py [ROOT]``; exit 1 lists what failed.

Paragraphs are runs of non-blank lines; two are the same when they match with whitespace
collapsed.  Short ones (under 80 characters: a heading, "Then, in another terminal:") may
repeat.  So that a copy glued to its neighbours without a blank line is found too, any three
consecutive lines of 20 characters or more seen more than twice count as a repeated paragraph.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

MAX_TEXT_BYTES = 1024 * 1024
MAX_COPIES = 2
MIN_PARAGRAPH = 80
MIN_LINE = 20
WINDOW = 3
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}


def tracked_files(root: Path) -> list[Path]:
    """``git ls-files`` of ``root``; every file outside tool caches when it is no checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z"], check=True, capture_output=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [
            p
            for p in root.rglob("*")
            if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(root).parts)
        ]
    return [root / name for name in out.decode().split("\0") if name]


def is_text(path: Path) -> bool:
    with path.open("rb") as f:
        return b"\0" not in f.read(8192)


def repeated_paragraphs(text: str) -> list[str]:
    """Paragraphs (or 3-line runs) found more than :data:`MAX_COPIES` times, as short quotes."""
    lines = [line.strip() for line in text.splitlines()]
    paragraphs: Counter[str] = Counter()
    current: list[str] = []
    for line in [*lines, ""]:
        if line:
            current.append(line)
        elif current:
            joined = " ".join(" ".join(current).split())
            if len(joined) >= MIN_PARAGRAPH:
                paragraphs[joined] += 1
            current = []
    windows: Counter[tuple[str, ...]] = Counter()
    for i in range(len(lines) - WINDOW + 1):
        run = tuple(lines[i : i + WINDOW])
        if all(len(line) >= MIN_LINE for line in run):
            windows[run] += 1
    found = [p for p, n in paragraphs.items() if n > MAX_COPIES]
    found += [" / ".join(w) for w, n in windows.items() if n > MAX_COPIES]
    return [f"{quote[:70]!r}..." for quote in found[:3]]


def problems(root: Path) -> list[str]:
    out: list[str] = []
    for path in sorted(tracked_files(root)):
        if not path.is_file() or path.is_symlink() or not is_text(path):
            continue
        name = path.relative_to(root)
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            out.append(f"{name}: {size:,} bytes, over the {MAX_TEXT_BYTES:,}-byte limit")
            continue
        if path.suffix.lower() == ".md":
            for quote in repeated_paragraphs(path.read_text(encoding="utf-8", errors="replace")):
                out.append(f"{name}: the same paragraph more than {MAX_COPIES} times: {quote}")
    return out


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else ".").resolve()
    found = problems(root)
    for line in found:
        print(f"check_tree: {line}", file=sys.stderr)
    if found:
        print("check_tree: a tracked file looks corrupted; restore it from git", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
