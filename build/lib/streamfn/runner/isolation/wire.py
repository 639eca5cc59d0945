"""Frames between the runner and a worker process: a 4-byte big-endian length, then bytes.

A call is two frames (a JSON header, then the payload's JSON bytes as stored in the stream, so
the runner never re-encodes it); a reply is two frames too (a JSON header, then the result's
JSON bytes).  The worker's stdout and stderr stay free for the handler's own prints.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

_LENGTH = struct.Struct(">I")
MAX_FRAME = 512 * 1024 * 1024  # a corrupt length must not make the reader allocate forever


class FrameError(Exception):
    """The other side sent something that is not a frame (or closed the pipe mid-frame)."""


def frame(data: bytes) -> bytes:
    """``data`` with its length prefix."""
    return _LENGTH.pack(len(data)) + data


def length_of(prefix: bytes) -> int:
    """The length in a 4-byte prefix; rejects sizes no frame of ours can have."""
    (length,) = _LENGTH.unpack(prefix)
    if length > MAX_FRAME:
        raise FrameError(f"frame of {length} bytes is over the {MAX_FRAME} byte limit")
    return int(length)


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame from a blocking stream; None at a clean end of stream."""
    prefix = stream.read(_LENGTH.size)
    if not prefix:
        return None
    if len(prefix) < _LENGTH.size:
        raise FrameError("stream ended inside a frame's length")
    length = length_of(prefix)
    data = stream.read(length)
    if len(data) < length:
        raise FrameError("stream ended inside a frame")
    return bytes(data)
