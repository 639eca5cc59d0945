"""The compiled checks of declared values agree with msgspec's own verdict on them."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import Meta

from streamfn.gateway.checks import Check, checker, declared
from streamfn.gateway.envelope import ApiError
from streamfn.gateway.scalars import (
    Count,
    Delay,
    FunctionName,
    IdempotencyKey,
    InvocationId,
    ScheduleId,
    Wait,
)
from streamfn.settings import DEFAULTS


def _ours(check: Check, raw: str) -> bool:
    try:
        check(raw, DEFAULTS)
    except ApiError:
        return False
    return True


def _msgspec(value: object, annotation: object) -> bool:
    try:
        msgspec.convert(value, annotation)
    except msgspec.ValidationError:
        return False
    return True


TEXT = [FunctionName, InvocationId, ScheduleId, IdempotencyKey]


@pytest.mark.parametrize("annotation", TEXT, ids=lambda a: declared(a)[1].title)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_text_checks_agree_with_msgspec(annotation: object, data: st.DataObject) -> None:
    """The compiled check accepts what msgspec accepts, except a final newline: msgspec
    matches with re.search, where "$" also matches before it; JSON Schema's "$" does not."""
    pattern = declared(annotation)[1].pattern
    assert pattern is not None
    raw = data.draw(st.one_of(st.from_regex(pattern), st.text(max_size=300)))
    expected = _msgspec(raw, annotation) and not raw.endswith("\n")
    assert _ours(checker("x", annotation), raw) == expected


@settings(max_examples=300, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_number_checks_agree_with_msgspec(value: float) -> None:
    wait_le = Annotated[Wait, Meta(le=DEFAULTS.max_wait)]  # the bound that is a setting
    for annotation, declared_as in ((Delay, Delay), (wait_le, Wait)):
        check = checker("x", declared_as)
        assert _ours(check, repr(value)) == _msgspec(value, annotation), (annotation, value)


@settings(max_examples=300, deadline=None)
@given(value=st.integers(min_value=-10, max_value=10**10))
def test_whole_number_checks_agree_with_msgspec(value: int) -> None:
    assert _ours(checker("count", Count), str(value)) == _msgspec(value, Count)
