"""``bench.wrk``: parsing what wrk 4.1 prints, and one short real run against the bare server.

The samples are real ``wrk -t1 -c50 --latency`` outputs captured on this machine against
``python -m bench.bare_server``: a clean run, a run against a route the server does not have
(every answer 404), and a run during which the server was stopped with SIGSTOP for 2.5 s.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import wrk

CLEAN = """\
Running 3s test @ http://127.0.0.1:18931/invoke/noop
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.74ms    2.72ms  29.53ms   83.93%
    Req/Sec    11.01k     3.09k   18.06k    73.33%
  Latency Distribution
     50%    3.67ms
     75%    5.49ms
     90%    7.84ms
     99%   15.68ms
  32896 requests in 3.01s, 8.16MB read
Requests/sec:  10933.04
Transfer/sec:      2.71MB
"""

NOT_FOUND = """\
Running 2s test @ http://127.0.0.1:18931/nope
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.30ms    7.53ms  55.42ms   90.46%
    Req/Sec     8.58k     2.71k   14.28k    65.00%
  Latency Distribution
     50%    4.52ms
     75%    7.38ms
     90%   14.27ms
     99%   41.06ms
  17133 requests in 2.01s, 2.84MB read
  Non-2xx or 3xx responses: 17133
Requests/sec:   8543.88
Transfer/sec:      1.42MB
"""

TIMEOUTS = """\
Running 4s test @ http://127.0.0.1:18932/invoke/noop
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.95ms    4.03ms  81.31ms   93.76%
    Req/Sec     9.50k     4.37k   16.16k    68.75%
  Latency Distribution
     50%    4.15ms
     75%    5.24ms
     90%    7.45ms
     99%   21.76ms
  15137 requests in 4.01s, 3.75MB read
  Socket errors: connect 0, read 0, write 0, timeout 50
Requests/sec:   3773.35
Transfer/sec:      0.94MB
"""


def test_parse_clean_run() -> None:
    r = wrk.parse(CLEAN)
    assert r.requests == 32896
    assert r.duration_s == pytest.approx(3.01)
    assert r.requests_per_s == pytest.approx(10933.04)
    assert r.non2xx == 0
    assert r.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert r.p50_ms == pytest.approx(3.67)
    assert r.p99_ms == pytest.approx(15.68)
    assert r.ok == 32896
    assert r.ok_per_s == pytest.approx(10933.04)


def test_parse_counts_error_statuses_out_of_the_accepted_rate() -> None:
    r = wrk.parse(NOT_FOUND)
    assert r.requests == 17133
    assert r.non2xx == 17133
    assert r.ok == 0
    assert r.ok_per_s == 0.0
    assert r.p99_ms == pytest.approx(41.06)


def test_parse_reads_socket_errors() -> None:
    r = wrk.parse(TIMEOUTS)
    assert r.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 50}
    assert r.requests == 15137
    assert r.duration_s == pytest.approx(4.01)


def test_parse_converts_every_time_unit_to_ms() -> None:
    text = (
        CLEAN.replace("3.67ms", "812.00us")
        .replace("15.68ms", "1.20s")
        .replace("in 3.01s", "in 1.00m")
    )
    r = wrk.parse(text)
    assert r.p50_ms == pytest.approx(0.812)
    assert r.p99_ms == pytest.approx(1200.0)
    assert r.duration_s == pytest.approx(60.0)


def test_parse_names_the_missing_line() -> None:
    with pytest.raises(wrk.WrkError, match="Requests/sec"):
        wrk.parse(CLEAN.replace("Requests/sec:  10933.04\n", ""))


def test_script_posts_the_body_as_json() -> None:
    text = wrk.script(b'{"a": "x\\"y"}')
    assert 'wrk.method = "POST"' in text
    assert 'wrk.headers["Content-Type"] = "application/json"' in text
    assert '"\\123\\034a\\034\\058\\032\\034x\\092\\034y\\034\\125"' in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def bare_server() -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_server", str(port)],
        cwd=Path(__file__).resolve().parents[2],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "bench.bare_server did not listen"
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.e2e
@pytest.mark.timeout(60)
@pytest.mark.skipif(wrk.find() is None, reason="wrk is not installed")
def test_run_posts_to_the_bare_server(bare_server: int) -> None:
    base = f"http://127.0.0.1:{bare_server}"
    ok = asyncio.run(wrk.run(f"{base}/invoke/noop", connections=4, seconds=1))
    assert ok.requests > 0
    assert ok.non2xx == 0
    assert ok.ok_per_s > 0
    assert ok.client_cpu_s > 0
    # The bare server has only POST /invoke/{fn}: another path answers 404, counted as non-2xx.
    missing = asyncio.run(wrk.run(f"{base}/nope", connections=4, seconds=1))
    assert missing.requests > 0
    assert missing.non2xx == missing.requests
