"""``.ci/check_tree.py`` (run by ``make lint``) fails on oversized or corrupted documents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "check_tree.py"

PARAGRAPH = (
    "- **Drain: two processes taking turns on 2 cores.** The runner pays 20-25 us of CPU per\n"
    "  invocation and Redis ~20 us, so the ceiling is ~40-50k/s with perfect overlap. Reads\n"
    "  of half the slots overlap the two, and the bench's own poller takes its share.\n"
)


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )


def repo(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    return tmp_path


def test_the_project_tree_passes() -> None:
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_tracked_markdown_file_over_1_mib_fails(tmp_path: Path) -> None:
    words = "".join(f"word{i} " + ("\n" if i % 12 == 11 else "") for i in range(300_000))
    root = repo(tmp_path, {"README.md": "# ok\n", "bench/README.md": words})
    assert (root / "bench/README.md").stat().st_size > 2 * 1024 * 1024
    result = check(root)
    assert result.returncode == 1
    assert "bench/README.md" in result.stderr and "over the 1,048,576-byte limit" in result.stderr


def test_untracked_and_binary_files_are_not_size_checked(tmp_path: Path) -> None:
    root = repo(tmp_path, {"chart.png": b"\x89PNG\0" + b"\1" * (2 * 1024 * 1024)})
    (root / "scratch.md").write_text("x" * (2 * 1024 * 1024))  # not tracked
    assert check(root).returncode == 0


def test_a_paragraph_three_times_fails_and_twice_passes(tmp_path: Path) -> None:
    twice = repo(tmp_path / "a", {"doc.md": f"# t\n\n{PARAGRAPH}\nother\n\n{PARAGRAPH}"})
    assert check(twice).returncode == 0
    thrice = repo(tmp_path / "b", {"doc.md": "\n".join([PARAGRAPH] * 3)})
    result = check(thrice)
    assert result.returncode == 1
    assert "doc.md: the same paragraph more than 2 times" in result.stderr


def test_copies_glued_to_their_neighbours_are_found(tmp_path: Path) -> None:
    """The corruption seen once: the paragraph between every character, no blank lines."""
    original = "Some real text of a document.\n"
    mangled = "".join(ch + PARAGRAPH for ch in original)
    root = repo(tmp_path, {"docs/x.md": mangled})
    result = check(root)
    assert result.returncode == 1
    assert "docs/x.md: the same paragraph" in result.stderr


def test_short_repeated_lines_and_paragraphs_are_fine(tmp_path: Path) -> None:
    table = "| a | b |\n| --- | --- |\n| 1 | 2 |\n"
    doc = "\n".join(["Then, in another terminal:", "```sh", "make run", "```", table] * 5)
    assert check(repo(tmp_path, {"doc.md": doc})).returncode == 0
