"""Test tiers shared by ``tests/fault`` and ``tests/fuzz``: markers and the soak switch.

Soak variants run only when the marker expression names them (``pytest -m soak``, as
``make soak`` does); plain ``pytest`` and ``make test`` skip them.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fault: a fault-injection scenario (tests/fault)")
    config.addinivalue_line("markers", "fuzz: generated requests against a live gateway")
    config.addinivalue_line("markers", "soak: a long variant, run with `make soak` (-m soak)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "soak" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="soak tier: run with `make soak` (pytest -m soak)")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
