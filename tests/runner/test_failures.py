"""The error descriptions of failed attempts stay bounded whatever a handler raises."""

from __future__ import annotations

from streamfn.runner.failures import (
    MESSAGE_CHARS,
    TRACEBACK_CHARS,
    bounded,
    clip,
    clip_tail,
    error_of,
    result_too_large,
)


def test_clip_keeps_short_text_and_marks_what_it_cut() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcdef", 3) == "abc... [3 more characters cut]"
    assert clip_tail("abcdef", 3) == "[3 earlier characters cut] ...def"
    assert clip_tail("abc", 5) == "abc"


def test_error_of_caps_message_and_traceback() -> None:
    try:
        raise RuntimeError("z" * 100_000)
    except RuntimeError as exc:
        error = error_of(exc)
    assert error["type"] == "RuntimeError"
    assert len(error["message"]) <= MESSAGE_CHARS + 40
    assert error["message"].endswith(f"[{100_000 - MESSAGE_CHARS} more characters cut]")
    assert len(error["traceback"]) <= TRACEBACK_CHARS + 40
    assert error["traceback"].endswith("z" * 100)  # the end of a traceback is kept


def test_bounded_caps_every_field_of_an_error_from_elsewhere() -> None:
    error = bounded({"type": "T" * 10_000, "message": "m" * 10_000, "traceback": "t" * 50_000})
    assert all(len(v) <= TRACEBACK_CHARS + 100 for v in error.values())
    assert len(error["message"]) <= MESSAGE_CHARS + 100
    again = error_of(RuntimeError("y" * 50_000))
    assert bounded(again) == again, "what error_of cut is kept as it is, marker included"
    many = bounded({f"k{i}": "v" for i in range(100)})
    assert len(many) == 16


def test_result_too_large_names_the_size_and_the_setting() -> None:
    error = result_too_large(2_000_000, 1_048_576)
    assert error["type"] == "ResultTooLarge"
    assert "2000000 bytes" in error["message"] and "STREAMFN_MAX_RESULT" in error["message"]
