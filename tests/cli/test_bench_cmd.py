"""``streamfn bench``: a missing bench says how to install it; otherwise argv is handed over."""

from __future__ import annotations

import pytest

from streamfn.cli import main


def test_bench_without_the_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import streamfn.cli.bench_cmd as cli

    monkeypatch.setattr(cli, "BENCH_EXTRA", ("matplotlib", "no_such_module_for_bench"))
    assert main(["bench", "floor", "--n", "2000"]) == 2
    err = capsys.readouterr().err
    assert "no_such_module_for_bench not installed" in err
    assert "make bench-install" in err and "pip install -e ./bench" in err


def test_bench_hands_its_arguments_to_the_bench_entry_point(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bench.cli
    import streamfn.cli.bench_cmd as cli

    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "BENCH_EXTRA", ())
    monkeypatch.setattr(bench.cli, "main", lambda argv: seen.append(argv) or 0)
    assert main(["bench", "floor", "--n", "2000", "--repeat", "1"]) == 0
    assert seen == [["floor", "--n", "2000", "--repeat", "1"]]
