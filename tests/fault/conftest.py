"""Fault scenarios: markers, the soak switch, and a factory for each scenario's processes.

``fault`` marks every scenario here (the fast tier runs in ``make test``); ``soak`` marks the
long variants, which run only when selected: ``pytest -m soak`` (``make soak``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from streamfn.settings import Settings
from tests.fault.harness import Stack
from tests.fault.tiers import pytest_collection_modifyitems, pytest_configure

__all__ = ["MakeStack", "pytest_collection_modifyitems", "pytest_configure"]

MakeStack = Callable[..., Awaitable[Stack]]


@pytest.fixture
async def make_stack(settings: Settings, tmp_path: Path) -> AsyncIterator[MakeStack]:
    stacks: list[Stack] = []

    async def make(**options: Any) -> Stack:
        stack = Stack(settings, tmp_path, **options)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        await stack.close()
