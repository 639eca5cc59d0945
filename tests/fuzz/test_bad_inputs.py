"""G1-G3, case by case: path traversal, look-alike names, oversized and malformed bodies.

Each case goes out as raw bytes (nothing normalised on the way) and must be answered 4xx with
nothing enqueued; none may be a 5xx.
"""

from __future__ import annotations

import socket

import pytest

from tests.fault.figures import record
from tests.fuzz.conftest import KNOWN, Live
from tests.fuzz.rawhttp import RawClient

pytestmark = pytest.mark.fuzz

PATHS = [
    b"/invoke/../../etc/passwd",
    b"/invoke/..%2f..%2fetc%2fpasswd",
    b"/invoke/%2e%2e",
    b"/invoke/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    b"/invoke/..",
    b"/invoke/os",
    b"/invoke/subprocess",
    b"/invoke/importlib",
    b"/invoke/functions.secret",
    b"/invoke/__init__",
    b"/invoke/_test_probe",
    b"/invoke/a.b",
    b"/invoke/%00x",
    b"/invoke/echo%00",
    b"/invoke/" + b"a" * 10_000,
    b"/invoke/%EF%BD%86%EF%BD%8F%EF%BD%8F",  # fullwidth "foo"
    b"/invoke/ech%D0%BE",  # Cyrillic o
    b"/invoke/{echo}",
    b"/invoke/%7Becho%7D",
    b"/invoke/echo*",
    b"/invoke/echo:stream",
    b"/invoke/ECHO",
    b"/invoke/Echo",
    b"/invoke/echo/",
    b"/invoke//echo",
    b"/invoke/echo/../echo",
    b"/invocations/../../etc/passwd",
    b"/invocations/echo.%2e%2e",
    b"/dead-letters/..%2f..%2f/replay",
    b"/static/../../etc/passwd",
]

BODIES: list[tuple[str, bytes, dict[str, bytes]]] = [
    ("malformed JSON", b'{"a":', {}),
    ("non-UTF-8", b'"\xff\xfe"', {}),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, {}),
    ("NaN", b"NaN", {}),
    ("Infinity", b"[Infinity]", {}),
    ("trailing garbage", b"{} {}", {}),
    ("text/plain", b"hello", {"Content-Type": b"text/plain"}),
    ("gzip declared", b"\x1f\x8b\x08\x00", {"Content-Encoding": b"gzip"}),
]


def _status_of(raw: RawClient, method: str, target: bytes, body: bytes = b"", **h: bytes) -> int:
    status, _ = raw.request(method, target, body, headers=dict(h))
    return status


def test_path_attacks_are_4xx_and_enqueue_nothing(live: Live) -> None:
    raw = RawClient(live.proc.port)
    keys_before, queued_before = live.key_count(), live.enqueued()
    results = {p.decode(errors="replace")[:60]: _status_of(raw, "POST", p, b"{}") for p in PATHS}
    raw.close()
    bad = {p: s for p, s in results.items() if not 400 <= s < 500}
    record(
        "G1",
        title="function-name and path attacks, sent raw",
        fault=f"{len(PATHS)} traversal, look-alike, injection and oversized names",
        expectation="4xx, nothing enqueued, no key created",
        lost=None,
        duplicates=None,
        recovery_s=None,
        cases=len(PATHS),
        statuses=sorted(set(results.values())),
        non_4xx=len(bad),
    )
    assert not bad, bad
    assert live.enqueued() == queued_before
    assert live.key_count() == keys_before


def test_malformed_bodies_are_4xx_and_enqueue_nothing(live: Live) -> None:
    raw = RawClient(live.proc.port)
    before = live.enqueued()
    results = {}
    for name, body, headers in BODIES:
        results[name] = _status_of(raw, "POST", f"/invoke/{KNOWN}".encode(), body, **headers)
    raw.close()
    record(
        "G3",
        title="malformed payloads",
        fault=", ".join(name for name, _, _ in BODIES),
        expectation="400/413/415, never 5xx, nothing enqueued",
        lost=None,
        duplicates=None,
        recovery_s=None,
        statuses=results,
    )
    assert all(400 <= s < 500 for s in results.values()), results
    assert live.enqueued() == before


def _oversized(port: int, head: bytes, body_chunks: int, chunk: bytes) -> int:
    """Send ``head`` then up to ``body_chunks`` chunks; the status once the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for _ in range(body_chunks):
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed before we finished: that is the point
        data = b""
        while b"\r\n" not in data:
            more = sock.recv(4096)
            if not more:
                break
            data += more
    return int(data.split(b" ", 2)[1]) if data else 0


def test_oversized_requests_are_refused(live: Live) -> None:
    port, ten_mb = live.proc.port, 10 * 1024 * 1024
    before = live.enqueued()
    target = f"POST /invoke/{KNOWN} HTTP/1.1\r\nHost: x\r\n".encode()
    with_length = _oversized(
        port, target + f"Content-Length: {ten_mb}\r\n\r\n".encode(), 160, b"1" * 65536
    )
    piece = b"10000\r\n" + b"1" * 65536 + b"\r\n"
    chunked = _oversized(port, target + b"Transfer-Encoding: chunked\r\n\r\n", 160, piece)
    header = _oversized(port, target + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n", 0, b"")
    results = {"10 MB with Content-Length": with_length, "10 MB chunked": chunked}
    results["100 KB header"] = header
    record(
        "G2",
        title="oversized bodies and headers",
        fault="10 MB body with Content-Length, 10 MB chunked body, 100 KB header line",
        expectation="413 for bodies (before reading them whole), 4xx for the header",
        lost=None,
        duplicates=None,
        recovery_s=None,
        statuses=results,
    )
    assert with_length == 413 and chunked == 413, results
    assert 400 <= header < 500, results
    assert live.enqueued() == before
