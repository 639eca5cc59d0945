"""orjson for every payload and result: one place that turns bytes into values and back."""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def dumps(value: Any) -> bytes:
    """Serialise ``value``; raises TypeError for values JSON cannot hold."""
    return orjson.dumps(value)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    return orjson.loads(data)


def text(value: Any) -> str:
    """A Redis reply value as text (bytes are UTF-8)."""
    return value.decode() if isinstance(value, bytes) else str(value)
