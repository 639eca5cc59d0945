"""The ``streamfn`` command: argument errors, settings, help, and the gateway/runner commands."""

from __future__ import annotations

import pytest

from streamfn.cli import main
from streamfn.settings import Settings
from tests.support.run_cli import child_env, run_streamfn

SUBCOMMANDS = ("dev", "gateway", "runner", "scheduler", "invoke", "settings")


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
