"""Parsing of query parameters, path ids and headers: a bad value is a 400 naming it.

Unknown query parameters are rejected (a typo such as ``dealy`` must not be silently
ignored), and so is a parameter given twice.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Collection
from datetime import datetime

from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway.errors import ApiError, show
from streamfn.names import INVOCATION_ID_RE, is_function_name

MAX_DELAY_S = 366 * 86400.0
"""Farthest a ``delay`` or ``at`` may reach into the future."""

_NUMBER_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,4})?")
_COUNT_RE = re.compile(r"[0-9]{1,9}")
_IDEMPOTENCY_KEY_RE = re.compile(r"[\x20-\x7e]{1,255}")
# A '+' in a query string decodes to ' ', so "…T10:00:00+02:00" arrives as "…T10:00:00 02:00".
_LOST_PLUS_RE = re.compile(r"(.*[0-9]) ([0-9]{2}(?::?[0-9]{2})?)")


def _invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_PARAMETER, message)


def query(request: web.Request, allowed: Collection[str]) -> dict[str, str]:
    """The query parameters as a dict; each must be in ``allowed`` and appear once."""
    if not request.query_string:
        return {}
    params = request.query
    unknown = sorted({name for name in params if name not in allowed})
    if unknown:
        accepted = ", ".join(sorted(allowed)) or "none"
        names = ", ".join(show(name, 32) for name in unknown[:5])
        raise _invalid(f"unknown query parameter {names}; this route accepts: {accepted}")
    out: dict[str, str] = {}
    for name, value in params.items():
        if name in out:
            raise _invalid(f"query parameter {name} is given more than once; give it once")
        out[name] = value
    return out


def seconds(name: str, raw: str, *, maximum: float, allow_zero: bool) -> float:
    """A duration in seconds: a finite decimal number, >= 0 (> 0 unless ``allow_zero``)."""
    example = f"e.g. {name}=5 or {name}=0.5"
    if len(raw) > 32 or not _NUMBER_RE.fullmatch(raw):
        raise _invalid(f"{name}={show(raw, 32)} is not a number of seconds; {example}")
    value = float(raw)
    if not math.isfinite(value):
        raise _invalid(f"{name} must be a finite number of seconds; {example}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise _invalid(f"{name}={show(raw, 32)} must be {bound} seconds")
    if value > maximum:
        raise _invalid(f"{name}={show(raw, 32)} exceeds the maximum of {maximum:g} seconds")
    return value


def wait(raw: str, max_wait: float) -> float:
    """``?wait=S``: 0 < S <= ``max_wait`` (STREAMFN_MAX_WAIT)."""
    return seconds("wait", raw, maximum=max_wait, allow_zero=False)


def delay(raw: str) -> float:
    """``?delay=S``: 0 <= S <= 366 days."""
    return seconds("delay", raw, maximum=MAX_DELAY_S, allow_zero=True)


def at(raw: str) -> int:
    """``?at=<RFC 3339 time with offset or Z>`` as epoch ms; at most 366 days ahead."""
    text = raw.upper()  # RFC 3339 allows "t" and "z"; fromisoformat does not
    lost_plus = _LOST_PLUS_RE.fullmatch(text)
    if lost_plus:
        text = f"{lost_plus.group(1)}+{lost_plus.group(2)}"
    example = "e.g. at=2030-01-02T03:04:05Z or at=2030-01-02T05:04:05%2B02:00"
    try:
        when = datetime.fromisoformat(text) if len(text) <= 64 else None
        if when is None or when.tzinfo is None:
            raise ValueError
        epoch_ms = math.floor(when.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise _invalid(
            f"at={show(raw, 40)} is not an RFC 3339 time with an offset or Z; {example}"
        ) from None
    if epoch_ms > (time.time() + MAX_DELAY_S) * 1000:
        raise _invalid(f"at={show(raw, 40)} is more than 366 days in the future")
    return epoch_ms


def count(raw: str | None, *, default: int, maximum: int) -> int:
    """``?count=N``: a whole number from 1 to ``maximum``."""
    if raw is None:
        return default
    if not _COUNT_RE.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise _invalid(f"count={show(raw, 32)} must be a whole number from 1 to {maximum}")
    return int(raw)


def function_name(raw: str) -> str:
    """A function name matching :data:`streamfn.names.FUNCTION_RE`, else 400."""
    if not is_function_name(raw):
        raise ApiError(
            ErrorCode.INVALID_FUNCTION_NAME,
            f"invalid function name {show(raw)}: use 1-64 lower-case letters, digits or '_', "
            "starting with a letter (the stem of functions/<name>.py)",
        )
    return raw


def invocation_id(raw: str) -> str:
    """An id matching :data:`streamfn.names.INVOCATION_ID_RE`, else 400."""
    if INVOCATION_ID_RE.fullmatch(raw) is None:
        raise ApiError(
            ErrorCode.INVALID_INVOCATION_ID,
            f"invalid invocation id {show(raw)}: ids look like <function>.<24 hex digits>, "
            "as returned by POST /invoke/<function>",
        )
    return raw


def idempotency_key(request: web.Request) -> str | None:
    """The ``Idempotency-Key`` header: 1-255 printable ASCII characters, at most once."""
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    if len(request.headers.getall("Idempotency-Key")) > 1:
        raise _invalid("Idempotency-Key is given more than once; send one")
    if not _IDEMPOTENCY_KEY_RE.fullmatch(value):
        raise _invalid("Idempotency-Key must be 1-255 printable ASCII characters")
    return value
