"""streamfn.names: the fast ownership check agrees with the regular expression, always."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streamfn.names import belongs_to, function_of, new_invocation_id

CASES = [
    "echo.0123456789abcdef01234567",
    "echo.0123456789ABCDEF01234567",  # upper-case hex is not ours
    "echo.0123456789abcdef0123456",  # 23
    "echo.0123456789abcdef012345678",  # 25
    "echo-0123456789abcdef01234567",
    "echox0123456789abcdef01234567",
    "echo.0123456789abc-ef01234567",
    "echo.0123456789abcdef0123456\n",
    "echoes.0123456789abcdef01234567",
    "ech.0123456789abcdef012345678",
    ".0123456789abcdef01234567",
    "",
]


def test_known_cases() -> None:
    for case in CASES:
        assert belongs_to(case, "echo") == (function_of(case) == "echo"), case
    assert belongs_to(new_invocation_id("echo"), "echo")


@given(st.text(alphabet="echo.0123456789abcdefABCDEF-_\n x", max_size=40))
def test_agrees_with_function_of(candidate: str) -> None:
    assert belongs_to(candidate, "echo") == (function_of(candidate) == "echo")


@given(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), st.text(max_size=30))
def test_agrees_for_any_function(function: str, suffix: str) -> None:
    for candidate in (f"{function}.{suffix}", new_invocation_id(function)):
        assert belongs_to(candidate, function) == (function_of(candidate) == function)
