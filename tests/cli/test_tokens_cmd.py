"""``streamfn tokens new|check``, and the real ``streamfn gateway`` process deciding at start:
it refuses a non-loopback bind without tokens, and serves a minted token's line."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

from streamfn.cli import main
from streamfn.launch import free_port
from streamfn.settings import Settings
from streamfn.tokens import Role, parse_tokens
from tests.support.procs import env_for, start_gateway
from tests.support.run_cli import run_streamfn


def mint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    """(the tokens-file line, the token) that ``streamfn tokens new ARGS`` printed."""
    assert main(["tokens", "new", *args]) == 0
    out, err = capsys.readouterr()
    return out.strip(), err.strip().rsplit(" ", 1)[-1]


def test_new_prints_the_line_on_stdout_and_the_token_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line, token = mint(capsys, "--role", "invoker", "--name", "mailer", "--pattern", "email*")
    assert token.startswith("sfn_") and token not in line
    (parsed,) = parse_tokens(line, "stdout").tokens
    assert (parsed.name, parsed.role, parsed.pattern.text) == ("mailer", Role.INVOKER, "email*")
    assert parse_tokens(line, "stdout").find(token) == parsed
    line, _ = mint(capsys, "--role", "viewer", "--name", "grafana", "--see-payloads")
    assert parse_tokens(line, "stdout").tokens[0].see_payloads


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--role", "root", "--name", "x"], "--role"),
        (["--role", "viewer", "--name", "has space"], "--name"),
        (["--role", "viewer", "--name", "x", "--pattern", "Email*"], "--pattern"),
        (["--role", "viewer"], "--name"),
    ],
)
def test_new_checks_its_arguments(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["tokens", "new", *argv])
    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err


def test_check_lists_a_valid_file_and_refuses_an_invalid_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tokens.toml"
    line, _ = mint(capsys, "--role", "operator", "--name", "ci")
    path.write_text(line + "\n")
    assert main(["tokens", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.split("\t")[:3] == ["ci", "operator", "*"]
    assert "1 tokens: valid" in err
    path.write_text(line + "\nbroken = {")
    assert main(["tokens", "check", str(path)]) == 1
    assert "not valid TOML" in capsys.readouterr().err


def test_check_without_a_file_needs_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STREAMFN_TOKENS_FILE", raising=False)
    assert main(["tokens", "check"]) == 2
    assert "STREAMFN_TOKENS_FILE" in capsys.readouterr().err


# --- the real gateway process -------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_the_gateway_refuses_a_non_loopback_bind_without_tokens(
    settings: Settings, host: str
) -> None:
    port = str(free_port())
    started = time.monotonic()
    done = run_streamfn(
        "gateway", "--host", host, "--port", port, env=env_for(settings), timeout=30
    )
    assert done.returncode == 2, done.stderr
    assert "will not start on" in done.stderr and "without tokens" in done.stderr
    assert "STREAMFN_AUTH=open" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30


def test_the_gateway_refuses_an_invalid_tokens_file(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    path.write_text('ci = { role = "admin", sha256 = "short" }\n')
    done = run_streamfn("gateway", env=env_for(settings, STREAMFN_TOKENS_FILE=str(path)))
    assert done.returncode == 2
    assert "64 lower-case hex" in done.stderr and "Traceback" not in done.stderr


async def test_a_minted_token_opens_the_real_gateway(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tokens.toml"
    line, token = mint(capsys, "--role", "viewer", "--name", "ci")
    path.write_text(line + "\n")
    gateway = await start_gateway(settings, tmp_path, STREAMFN_TOKENS_FILE=str(path))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{gateway.url}/functions") as response:
                assert response.status == 401
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(f"{gateway.url}/functions", headers=headers) as response:
                assert response.status == 200
            async with session.delete(f"{gateway.url}/functions/echo", headers=headers) as r:
                assert r.status == 403
    finally:
        gateway.stop()
