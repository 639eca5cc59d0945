"""Tokens: the file format and its errors, function patterns, hashing, the constant-time lookup."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path

import pytest

from streamfn import tokens as tokens_module
from streamfn.tokens import (
    MAX_CREDENTIAL,
    FunctionPattern,
    Role,
    TokensError,
    TokenSet,
    hash_token,
    mint_token,
    parse_env_tokens,
    parse_tokens,
    read_tokens_file,
    token_line,
)

H1, H2 = hash_token("one"), hash_token("two")


def test_the_ladder_orders_the_roles() -> None:
    assert Role.VIEWER < Role.INVOKER < Role.OPERATOR < Role.ADMIN
    assert Role.parse("Operator") is Role.OPERATOR
    with pytest.raises(TokensError, match="roles: viewer, invoker, operator, admin"):
        Role.parse("root")


def test_a_file_of_lines_parses_with_defaults_by_role() -> None:
    found = parse_tokens(
        f'ci = {{ role = "operator", sha256 = "{H1}" }}\n'
        f'# a comment\ngrafana = {{ role = "viewer", sha256 = "{H2}" }}\n',
        "test",
    )
    ci, grafana = found.tokens
    assert (ci.name, ci.role, ci.pattern.text, ci.see_payloads) == ("ci", Role.OPERATOR, "*", True)
    assert (grafana.role, grafana.see_payloads) == (Role.VIEWER, False)
    assert ci.digest == bytes.fromhex(H1)
    assert H1 not in repr(ci)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("ci = ", "not valid TOML"),
        ('ci = "x"', "must be a table"),
        (f'ci = {{ sha256 = "{H1}" }}', "role is required"),
        (f'ci = {{ role = "root", sha256 = "{H1}" }}', "unknown role 'root'"),
        ('ci = { role = "viewer", sha256 = "abc" }', "64 lower-case hex"),
        (f'ci = {{ role = "viewer", sha256 = "{H1.upper()}" }}', "64 lower-case hex"),
        (f'ci = {{ role = "viewer", sha256 = "{H1}", token = "x" }}', "unknown field 'token'"),
        (f'ci = {{ role = "viewer", sha256 = "{H1}", pattern = "a[b]" }}', "pattern 'a[b]'"),
        (f'ci = {{ role = "viewer", sha256 = "{H1}", see_payloads = "yes" }}', "true or false"),
        (f'"bad name" = {{ role = "viewer", sha256 = "{H1}" }}', "a name is"),
        (
            f'a = {{ role = "viewer", sha256 = "{H1}" }}\nb = {{ role = "admin", sha256 = "{H1}"}}',
            "same sha256",
        ),
    ],
)
def test_invalid_files_say_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(TokensError, match="where") as raised:
        parse_tokens(text, "where")
    assert complaint in str(raised.value)


def test_a_name_twice_is_refused_by_toml_and_by_a_merge() -> None:
    line = f'ci = {{ role = "viewer", sha256 = "{H1}" }}'
    with pytest.raises(TokensError, match="not valid TOML"):
        parse_tokens(f"{line}\n{line}", "f")
    other = parse_tokens(f'ci = {{ role = "admin", sha256 = "{H2}" }}', "g")
    with pytest.raises(TokensError, match="'ci' is defined twice"):
        parse_tokens(line, "f").merged(other, "both")


def test_environment_tokens_take_semicolons() -> None:
    found = parse_env_tokens(
        f'a = {{ role = "viewer", sha256 = "{H1}" }}; b = {{ role = "admin", sha256 = "{H2}" }}'
    )
    assert [t.name for t in found.tokens] == ["a", "b"]


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("*", ["echo", "a"], []),
        ("email*", ["email", "email_send"], ["send_email", "emai"]),
        ("sms_?", ["sms_a"], ["sms_", "sms_ab"]),
        ("email*,sms", ["email_x", "sms"], ["smsx", "other"]),
        ("echo", ["echo"], ["echo2", "ech"]),
    ],
)
def test_patterns_are_globs_over_function_names(
    pattern: str, yes: list[str], no: list[str]
) -> None:
    compiled = FunctionPattern.parse(pattern)
    assert all(compiled.matches(f) for f in yes)
    assert not any(compiled.matches(f) for f in no)


@pytest.mark.parametrize("bad", ["", "Email*", "a.b", "[ab]", "a,", "x" * 65, "a b"])
def test_patterns_accept_name_characters_and_wildcards_only(bad: str) -> None:
    with pytest.raises(TokensError, match="pattern"):
        FunctionPattern.parse(bad)


def test_a_minted_token_and_its_line_round_trip() -> None:
    token = mint_token()
    assert token.startswith("sfn_") and len(token) > 40 and token != mint_token()
    line = token_line("mailer", Role.INVOKER, hash_token(token), "email*", see=False)
    (parsed,) = parse_tokens(line, "line").tokens
    assert (parsed.role, parsed.pattern.text, parsed.see_payloads) == (
        Role.INVOKER,
        "email*",
        False,
    )
    assert parse_tokens(line, "line").find(token) == parsed
    assert "see_payloads" not in token_line("v", Role.VIEWER, H1, see=False)  # the default


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    calls: list[tuple[bytes, bytes]] = []
    real: Callable[[bytes, bytes], bool] = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens_module.hmac, "compare_digest", spy)
    return calls


def test_lookup_compares_digests_in_constant_time_with_every_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = "\n".join(
        f't{i} = {{ role = "viewer", sha256 = "{hash_token(str(i))}" }}' for i in range(5)
    )
    found = parse_tokens(lines, "f")
    calls = _counting(monkeypatch)
    assert found.find("0") is found.tokens[0]  # the first matches: the others are still compared
    assert len(calls) == 5
    assert all(
        a == hash_token("0") and len(b) == 32 for a, b in [(c[0].hex(), c[1]) for c in calls]
    )
    calls.clear()
    assert found.find("wrong") is None
    assert len(calls) == 5
    calls.clear()
    assert found.find("x" * (MAX_CREDENTIAL + 1)) is None  # not even hashed
    assert found.find("") is None
    assert calls == []


def test_an_empty_set_finds_nothing() -> None:
    assert TokenSet().find("anything") is None


def test_a_file_is_read_and_its_errors_name_it(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    with pytest.raises(TokensError, match=r"tokens\.toml"):
        read_tokens_file(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(TokensError, match="not UTF-8"):
        read_tokens_file(path)
    path.write_text(f'ci = {{ role = "admin", sha256 = "{H1}" }}\n')
    assert read_tokens_file(path).find("one") is not None
    path.write_text("#" * (tokens_module.MAX_FILE_BYTES + 1))
    with pytest.raises(TokensError, match="over"):
        read_tokens_file(path)
