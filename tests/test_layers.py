"""Dependencies point one way: the CLI layer on top, the gateway and the runner beside each
other, the core below them.

Every module under ``streamfn/`` (the symlinked gateway and runner included) is parsed with
``ast``; every ``import`` counts, inside functions too, since a lazy import is still a
dependency.  Only ``streamfn.cli`` may import both the gateway and the runner.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "streamfn"
GATEWAY, RUNNER, CLI = "streamfn.gateway", "streamfn.runner", "streamfn.cli"
ENTRY = "streamfn.__main__"
"""``python -m streamfn``: two lines calling :func:`streamfn.cli.main`, part of the CLI layer."""


def modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module under streamfn/, following the symlinked dirs."""
    paths = [
        Path(folder, file)
        for folder, _, files in os.walk(PACKAGE, followlinks=True)
        for file in files
        if file.endswith(".py")
    ]
    for path in sorted(paths):
        parts = ["streamfn", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imports(module: str, path: Path) -> set[str]:
    """Every module name ``module`` imports; ``from a import b`` counts as ``a`` and ``a.b``."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def uses(module: str, path: Path, package: str) -> bool:
    return any(within(name, package) for name in imports(module, path))


ALL = list(modules())


def test_the_walk_sees_every_layer() -> None:
    names = {name for name, _ in ALL}
    assert {GATEWAY + ".app", RUNNER + ".supervisor", CLI, "streamfn.launch.stack"} <= names
    assert len(names) > 90


def test_only_the_cli_layer_imports_both_gateway_and_runner() -> None:
    both = [m for m, p in ALL if uses(m, p, GATEWAY) and uses(m, p, RUNNER)]
    assert both, "the CLI must start both somewhere"
    assert all(within(m, CLI) for m in both), both


def test_the_entry_point_only_calls_the_cli() -> None:
    (path,) = [p for m, p in ALL if m == ENTRY]
    assert imports(ENTRY, path) - {"sys"} == {CLI, CLI + ".main"}


@pytest.mark.parametrize(("side", "others"), [(GATEWAY, (RUNNER, CLI)), (RUNNER, (GATEWAY, CLI))])
def test_gateway_and_runner_never_import_each_other_nor_the_cli(
    side: str, others: tuple[str, ...]
) -> None:
    bad = [(m, other) for m, p in ALL if within(m, side) for other in others if uses(m, p, other)]
    assert bad == []


def test_the_core_imports_neither_gateway_runner_nor_cli() -> None:
    core = [
        (m, p)
        for m, p in ALL
        if m != ENTRY and not any(within(m, top) for top in (GATEWAY, RUNNER, CLI))
    ]
    assert any(m == "streamfn.launch" for m, _ in core)
    bad = [(m, top) for m, p in core for top in (GATEWAY, RUNNER, CLI) if uses(m, p, top)]
    assert bad == []


def test_relative_and_lazy_imports_are_seen(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from .runner import supervisor\n    import streamfn.gateway\n")
    found = imports("streamfn.x.mod", source)
    assert {"streamfn.x.runner.supervisor", "streamfn.gateway"} <= found
