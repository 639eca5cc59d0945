"""streamfn.scripts.header and the loader: every lua/*.lua header parses, and a header (or a
ScriptSet field) that breaks the rules fails at import, naming what to fix."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from streamfn.scripts import SCRIPTS, ScriptSet
from streamfn.scripts.header import HeaderError, KeyShape, parse_header
from streamfn.scripts.loader import discover, mismatch


def header(*key_lines: str, name: str = "demo") -> str:
    body = "\n".join(key_lines)
    return f"--[[ {name}: a demo.\n\n{body}\n\nARGV[1]  x\n\nReturns  1\n]]\nreturn 1\n"


@pytest.mark.parametrize(
    ("lines", "shape"),
    [
        (["KEYS[1]  a"], KeyShape(1)),
        (["KEYS[1]  a", "KEYS[2]  b", "KEYS[3]  c  optional: d"], KeyShape(2, 1)),
        (["KEYS[1]  a", "KEYS[2]  b", "KEYS[3..n]  c"], KeyShape(2, 0, True)),
        (["KEYS[1]      a", "KEYS[1+i]    the record of item i (i = 1..n)"], KeyShape(1, 0, True)),
        ([], KeyShape(0)),
    ],
)
def test_each_form_of_the_grammar(lines: list[str], shape: KeyShape) -> None:
    assert parse_header("demo", header(*lines)) == shape


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["KEYS[2]  a"], "expected KEYS[1] here"),
        (["KEYS[1]  a", "KEYS[1]  b"], "expected KEYS[2] here"),
        (["KEYS[1]  a  optional", "KEYS[2]  b"], "required key may not follow an optional"),
        (["KEYS[1]  a", "KEYS[3..n]  b"], "tail must start at KEYS[2]"),
        (["KEYS[1]  a", "KEYS[2+i]  b"], "tail must start at KEYS[2]"),
        (["KEYS[1]  a", "KEYS[2..n]  b", "KEYS[3]  c"], "nothing may follow the variadic tail"),
        (["KEYS[1]  a  optional", "KEYS[2..n]  b"], "optional keys or a variadic tail"),
        (["KEYS[i]  a"], "not KEYS[k], KEYS[k..n] or KEYS[j+i]"),
    ],
)
def test_a_header_outside_the_grammar_names_file_and_line(lines: list[str], message: str) -> None:
    with pytest.raises(HeaderError, match=r"lua/demo\.lua:\d+: .*" + re.escape(message)):
        parse_header("demo", header(*lines))


def test_a_missing_or_misnamed_header_is_refused() -> None:
    with pytest.raises(HeaderError, match=r"lua/demo\.lua: must open with"):
        parse_header("demo", "return 1\n")
    with pytest.raises(HeaderError, match="its header names 'other', not 'demo'"):
        parse_header("demo", header("KEYS[1]  a", name="other"))


def test_shapes_describe_themselves() -> None:
    assert [KeyShape(*s).describe() for s in [(1,), (3,), (3, 1), (2, 2), (2, 0, True)]] == [
        "1 key",
        "3 keys",
        "3 or 4 keys",
        "2 to 4 keys",
        "2 or more keys",
    ]
    assert KeyShape(3, 1).accepts(4) and not KeyShape(3, 1).accepts(5)
    assert KeyShape(2, 0, True).accepts(10_000) and not KeyShape(2, 0, True).accepts(1)


def test_every_script_file_is_a_field_and_parses() -> None:
    found = discover()
    assert list(found) == [f.name for f in fields(ScriptSet)]
    assert SCRIPTS.all() == tuple(found.values())
    assert SCRIPTS.enqueue.shape == KeyShape(9, 1)  # KEYS[10] optional
    assert SCRIPTS.complete.shape == KeyShape(7, 0, True)  # KEYS[7+i]
    assert SCRIPTS.promote.shape == KeyShape(4, 0, True)  # KEYS[5..n]
    assert SCRIPTS.reindex.shape == KeyShape(4, 2)  # KEYS[5], KEYS[6] optional


def test_a_file_without_a_field_or_a_field_without_a_file_is_named() -> None:
    assert mismatch(["a", "b"], ["b", "a"]) is None
    problem = mismatch(["a", "gone"], ["a", "new"])
    assert problem is not None
    assert "lua/ has new with no ScriptSet field" in problem
    assert "ScriptSet has gone with no lua/<name>.lua" in problem
