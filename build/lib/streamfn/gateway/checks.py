"""Each declared value (:mod:`.scalars`) compiled, once, into the check of its raw text.

A check reads the declaration's ``msgspec.Meta`` (bounds, pattern, lengths, ``tz``) and its
``extra`` (the error and its message, a bound that is a setting), and refuses a constraint it
does not implement, so none is silently ignored.  ``msgspec.convert`` is not used on the
request path: it re-reads an ``Annotated`` type on every call (1-2 us a value, several times
these checks) and matches a pattern with ``re.search``, where ``$`` also matches before a final
newline.  The tests hold each check to msgspec's verdict.  Query text is stricter than JSON:
a number is a plain decimal, never ``inf`` or ``nan``.
"""

from __future__ import annotations

import math
import re
import sys
import time
import types
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin

from msgspec import Meta, UnsetType

from streamfn.errors import ErrorCode
from streamfn.gateway.envelope import ApiError, show
from streamfn.settings import Settings

Check = Callable[[str, Settings | None], Any]
"""Raw text (and the settings, for a bound that is one) to the value, or :class:`ApiError`."""

_NUMBER_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,4})?")
_WHOLE_RE = re.compile(r"[0-9]{1,9}")
# A '+' in a query string decodes to ' ', so "…T10:00:00+02:00" arrives as "…T10:00:00 02:00".
_LOST_PLUS_RE = re.compile(r"(.*[0-9]) ([0-9]{2}(?::?[0-9]{2})?)")


def invalid(message: str) -> ApiError:
    """A 400 ``invalid_parameter``."""
    return ApiError(ErrorCode.INVALID_PARAMETER, message)


_META_ATTRS = (
    *("gt", "ge", "lt", "le", "multiple_of", "pattern", "min_length", "max_length", "tz"),
    *("title", "description", "examples", "extra_json_schema", "extra"),
)


def bare(annotation: Any) -> Any:
    """``annotation`` without ``| None`` or ``| UnsetType`` (how a field says "optional")."""
    if get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = (a for a in get_args(annotation) if a not in (type(None), UnsetType))
    return annotation


def declared(annotation: Any) -> tuple[type, Meta]:
    """The base type and ``Meta`` of a field typed ``Annotated[T, Meta(...)]`` (or optional)."""
    annotation = bare(annotation)
    if get_origin(annotation) is not Annotated:
        raise TypeError(f"{annotation!r} is not a declared value (see gateway/scalars.py)")
    base, *extras = get_args(annotation)  # nested Annotated types arrive flattened
    metas = [m for m in extras if isinstance(m, Meta)]
    if len(metas) == 1:
        return base, metas[0]
    merged: dict[str, Any] = {}
    for meta in metas:  # a later Meta (a use of a declared value) adds to or overrides it
        merged.update((n, v) for n in _META_ATTRS if (v := getattr(meta, n)) is not None)
    return base, Meta(**merged)


def _unsupported(meta: Meta, *names: str) -> None:
    """Refuse a constraint the checks below would silently ignore."""
    given = [n for n in names if getattr(meta, n) is not None]
    if given:
        raise TypeError(f"{meta.title}: {', '.join(given)} is not checked by gateway/checks.py")


def _text(name: str, meta: Meta) -> Check:
    _unsupported(meta, "gt", "ge", "lt", "le", "multiple_of")
    if meta.pattern is None:
        raise TypeError(f"{meta.title}: text needs a pattern")
    match = re.compile(meta.pattern).fullmatch  # ^...$ and fullmatch: JSON Schema's reading
    shortest, longest = meta.min_length or 0, meta.max_length or sys.maxsize
    code, template = (meta.extra or {})["code"], (meta.extra or {})["message"]

    def refuse(raw: str) -> ApiError:
        lengths = {"min_length": meta.min_length, "max_length": meta.max_length}
        return ApiError(code, template.format(value=show(raw), **lengths))

    def check(raw: str, settings: Settings | None) -> str:
        if match(raw) is not None:
            return raw
        raise refuse(raw)

    def check_length(raw: str, settings: Settings | None) -> str:
        if shortest <= len(raw) <= longest and match(raw) is not None:
            return raw
        raise refuse(raw)

    return check if meta.min_length is None and meta.max_length is None else check_length


def _seconds(name: str, meta: Meta) -> Check:
    _unsupported(meta, "lt", "multiple_of", "pattern", "min_length", "max_length")
    example = f"e.g. {name}=5 or {name}=0.5"
    setting = (meta.extra or {}).get("maximum")
    if meta.gt is not None:
        low, refused, bound = meta.gt, float.__le__, f"more than {meta.gt:g}"
    else:
        low, refused, bound = meta.ge or 0, float.__lt__, f"{meta.ge or 0:g} or more"

    def check(raw: str, settings: Settings | None) -> float:
        if len(raw) > 32 or not _NUMBER_RE.fullmatch(raw):
            raise invalid(f"{name}={show(raw, 32)} is not a number of seconds; {example}")
        value = float(raw)
        if not math.isfinite(value):
            raise invalid(f"{name} must be a finite number of seconds; {example}")
        if refused(value, low):
            raise invalid(f"{name}={show(raw, 32)} must be {bound} seconds")
        maximum = meta.le if setting is None else getattr(settings, setting)
        if maximum is not None and value > maximum:
            raise invalid(f"{name}={show(raw, 32)} exceeds the maximum of {maximum:g} seconds")
        return value

    return check


def _whole(name: str, meta: Meta) -> Check:
    _unsupported(meta, "gt", "lt", "multiple_of", "pattern", "min_length", "max_length")
    low, high = meta.ge, meta.le
    if low is None or high is None:
        raise TypeError(f"{meta.title}: a whole number needs ge and le")

    def check(raw: str, settings: Settings | None) -> int:
        if not _WHOLE_RE.fullmatch(raw) or not low <= int(raw) <= high:
            raise invalid(f"{name}={show(raw, 32)} must be a whole number from {low} to {high}")
        return int(raw)

    return check


def _time(name: str, meta: Meta) -> Check:
    _unsupported(meta, "gt", "ge", "lt", "le", "pattern", "min_length", "max_length")
    within = (meta.extra or {})["within"]
    example = f"e.g. {name}=2030-01-02T03:04:05Z or {name}=2030-01-02T05:04:05%2B02:00"

    def check(raw: str, settings: Settings | None) -> datetime:
        text = raw.upper()  # RFC 3339 allows "t" and "z"; fromisoformat does not
        lost_plus = _LOST_PLUS_RE.fullmatch(text)
        if lost_plus:
            text = f"{lost_plus.group(1)}+{lost_plus.group(2)}"
        try:
            when = datetime.fromisoformat(text) if len(text) <= 64 else None
            if when is None or (meta.tz and when.tzinfo is None):
                raise ValueError
            epoch_ms = math.floor(when.timestamp() * 1000)
        except (ValueError, OverflowError):
            raise invalid(
                f"{name}={show(raw, 40)} is not an RFC 3339 time with an offset or Z; {example}"
            ) from None
        if epoch_ms > (time.time() + within) * 1000:
            raise invalid(
                f"{name}={show(raw, 40)} is more than {within / 86400:g} days in the future"
            )
        return when

    return check


_CHECKS: dict[type, Callable[[str, Meta], Check]] = {
    str: _text,
    float: _seconds,
    int: _whole,
    datetime: _time,
}


def checker(name: str, annotation: Any) -> Check:
    """The check of a value named ``name`` (as sent) declared as ``annotation``."""
    base, meta = declared(annotation)
    return _CHECKS[base](name, meta)
