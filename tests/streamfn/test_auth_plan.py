"""The start-up decision: no auth only on loopback by default, refusal elsewhere without tokens."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from streamfn.auth_plan import AuthRefused, is_loopback, plan_auth
from streamfn.settings import DEFAULTS, Settings, SettingsError
from streamfn.tokens import hash_token

LINE = f'ci = {{ role = "admin", sha256 = "{hash_token("secret")}" }}'


def at(host: str, **changes: str) -> Settings:
    return replace(DEFAULTS, host=host, **changes)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.0.0.5", False),
        ("gateway.example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_loopback_without_tokens_runs_without_auth() -> None:
    plan = plan_auth(at("127.0.0.1"))
    assert not plan.enforced and plan.warning is None


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::", "gateway.example.com"])
def test_any_other_address_without_tokens_is_refused(host: str) -> None:
    with pytest.raises(AuthRefused, match="without tokens") as raised:
        plan_auth(at(host))
    assert "STREAMFN_AUTH=open" in str(raised.value)
    assert isinstance(raised.value, SettingsError)  # the CLI's one-line message and exit 2


def test_open_runs_anywhere_with_a_warning_off_loopback() -> None:
    plan = plan_auth(at("0.0.0.0", auth="open"))
    assert not plan.enforced
    assert plan.warning is not None and "0.0.0.0" in plan.warning
    assert plan_auth(at("127.0.0.1", auth="open")).warning is None
    assert not plan_auth(at("0.0.0.0", auth="open", tokens=LINE)).enforced


def test_tokens_mode_needs_tokens_on_loopback_too() -> None:
    with pytest.raises(AuthRefused, match="STREAMFN_AUTH=tokens"):
        plan_auth(at("127.0.0.1", auth="tokens"))
    assert plan_auth(at("127.0.0.1", auth="tokens", tokens=LINE)).enforced


def test_configured_tokens_are_enforced_on_any_address(tmp_path: Path) -> None:
    assert plan_auth(at("127.0.0.1", tokens=LINE)).enforced
    path = tmp_path / "tokens.toml"
    path.write_text(f'file_ci = {{ role = "viewer", sha256 = "{hash_token("other")}" }}')
    plan = plan_auth(at("0.0.0.0", tokens_file=str(path), tokens=LINE))
    assert plan.enforced and plan.file == path
    assert [t.name for t in plan.tokens.tokens] == ["ci", "file_ci"]
    assert [t.name for t in plan.fixed.tokens] == ["ci"]


def test_a_bad_or_empty_tokens_file_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    with pytest.raises(AuthRefused, match=r"tokens\.toml"):
        plan_auth(at("127.0.0.1", tokens_file=str(path)))  # missing
    path.write_text('ci = { role = "admin" }')
    with pytest.raises(AuthRefused, match="sha256 is required"):
        plan_auth(at("0.0.0.0", tokens_file=str(path)))
    path.write_text("# nobody yet\n")
    with pytest.raises(AuthRefused, match="holds no tokens"):
        plan_auth(at("0.0.0.0", tokens_file=str(path)))
