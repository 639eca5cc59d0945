"""The ``streamfn`` command: argument errors, settings, help, and the gateway/runner commands."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from streamfn.cli import main
from streamfn.settings import Settings
from tests.support.cli import child_env, run_streamfn
from tests.support.redis_server import free_port

SUBCOMMANDS = ("dev", "gateway", "runner", "invoke", "settings")


@pytest.mark.parametrize("payload", ["{bad", "{'a': 1}", "", "[1,"])
def test_invoke_invalid_json_exits_2(payload: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "echo", payload]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "invalid JSON payload" in err


@pytest.mark.parametrize("name", ["Echo", "1fn", "a-b", "x" * 65, "../etc"])
def test_invoke_bad_function_name_exits_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", name]) == 2
    assert "invalid function name" in capsys.readouterr().err


# --- settings and errors ------------------------------------------------------------------


def test_settings_prints_every_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    for env, default, doc in Settings.table():
        line = next(li for li in out.splitlines() if li.startswith(env + " "))
        assert default in line
        assert doc in line


def test_settings_markdown_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| variable | default | meaning |"
    assert len(lines) == 2 + len(Settings.table())
    assert "| `STREAMFN_PORT` | `8080` |" in "\n".join(lines)


@pytest.mark.parametrize("command", [["invoke", "echo"], ["dev"]])
def test_a_bad_setting_exits_2_naming_the_variable(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFN_CONCURRENCY", "lots")
    assert main(command) == 2
    assert "STREAMFN_CONCURRENCY" in capsys.readouterr().err


def test_a_misspelt_setting_exits_2_without_traceback(settings: Settings) -> None:
    done = run_streamfn("invoke", "echo", env=child_env(settings, STREAMFN_CONCURENCY="4"))
    assert done.returncode == 2
    assert "STREAMFN_CONCURENCY" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"usage: streamfn {command}" in capsys.readouterr().out


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(f"    {command} " in out for command in SUBCOMMANDS)


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["runner", "--concurrency", "0"], "--concurrency"),
        (["runner", "--bogus"], "--bogus"),
        (["gateway", "--port", "x"], "--port"),
    ],
)
def test_gateway_and_runner_check_their_own_flags(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"usage: streamfn {argv[0]}" in err
    assert complaint in err


# --- gateway and runner subcommands (the real processes) ----------------------------------


def test_runner_burst_drains_and_exits_0(settings: Settings) -> None:
    done = run_streamfn("runner", "--burst", "--concurrency", "2", env=child_env(settings))
    assert done.returncode == 0, done.stderr


def _healthz(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1) as response:
            return int(response.status) == 200
    except OSError:
        return False


def test_gateway_serves_healthz_and_stops_on_sigterm(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "gateway.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamfn", "gateway"],
        env=child_env(settings, STREAMFN_PORT=str(port), STREAMFN_HOST="127.0.0.1"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not _healthz(f"http://127.0.0.1:{port}/healthz"):
            assert proc.poll() is None, (tmp_path / "gateway.log").read_text()
            assert time.monotonic() < deadline, "gateway never answered /healthz"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        log.close()


# --- bench -----------------------------------------------------------------------------------


def test_bench_without_the_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import streamfn.cli as cli

    monkeypatch.setattr(cli, "BENCH_EXTRA", ("matplotlib", "no_such_module_for_bench"))
    assert main(["bench", "floor", "--n", "2000"]) == 2
    err = capsys.readouterr().err
    assert "no_such_module_for_bench not installed" in err
    assert "make bench-install" in err and "pip install -e ./bench" in err


def test_bench_hands_its_arguments_to_the_bench_entry_point(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bench.cli
    import streamfn.cli as cli

    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "BENCH_EXTRA", ())
    monkeypatch.setattr(bench.cli, "main", lambda argv: seen.append(argv) or 0)
    assert main(["bench", "floor", "--n", "2000", "--repeat", "1"]) == 0
    assert seen == [["floor", "--n", "2000", "--repeat", "1"]]
