"""The process edge every entry point shares: argument types, the loop, signals."""

from __future__ import annotations

import argparse
import asyncio
import signal

import pytest

from streamfn.cli import edge
from streamfn.cli.edge import SignalFlag, StopSignals


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("8080", 8080), ("65535", 65535)])
def test_port_accepts_0_to_65535(raw: str, value: int) -> None:
    assert edge.port(raw) == value


@pytest.mark.parametrize(("raw", "complaint"), [("x", "not a port"), ("65536", "0 to 65535")])
def test_port_refuses_the_rest(raw: str, complaint: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=complaint):
        edge.port(raw)


def test_positive_int() -> None:
    assert edge.positive_int("3") == 3
    with pytest.raises(argparse.ArgumentTypeError, match=">= 1"):
        edge.positive_int("0")
    with pytest.raises(argparse.ArgumentTypeError, match="not a whole number"):
        edge.positive_int("two")


def test_seconds() -> None:
    assert edge.seconds("0") == 0.0
    assert edge.seconds("1.5") == 1.5
    with pytest.raises(argparse.ArgumentTypeError, match="0 or more seconds"):
        edge.seconds("-1")
    with pytest.raises(argparse.ArgumentTypeError, match="0 or more seconds"):
        edge.seconds("nan")
    with pytest.raises(argparse.ArgumentTypeError, match="not a number of seconds"):
        edge.seconds("soon")


def test_run_uses_uvloop_where_installed() -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    uvloop = pytest.importorskip("uvloop")
    assert edge.loop_factory() is uvloop.new_event_loop
    assert edge.run(loop_module()).startswith("uvloop")


def test_stop_signals_call_back_each_time_and_restore() -> None:
    calls: list[int] = []

    async def main() -> None:
        called = asyncio.Event()

        def on_stop() -> None:
            calls.append(len(calls))
            called.set()

        async with StopSignals(on_stop):
            for sig in (signal.SIGTERM, signal.SIGINT):  # the second: a counting callee forces
                called.clear()
                signal.raise_signal(sig)
                await asyncio.wait_for(called.wait(), 5)

    before = signal.getsignal(signal.SIGTERM)
    edge.run(main())
    assert calls == [0, 1]
    assert signal.getsignal(signal.SIGTERM) is before


def test_signal_flag_records_and_restores() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with SignalFlag() as flag:
        assert flag.signalled is None
        signal.raise_signal(signal.SIGTERM)
        assert flag.signalled is signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before
