"""A progress bar on stderr (tqdm, from the ``bench`` extra); silent when tqdm is missing."""

from __future__ import annotations

import importlib
import sys
from typing import Any


class Progress:
    """``with Progress(total, label) as p: p.update(k)``; a no-op without tqdm or a TTY."""

    def __init__(self, total: int, label: str, *, enabled: bool = True) -> None:
        self._bar: Any = None
        if enabled and total > 0 and sys.stderr.isatty():
            try:
                tqdm = importlib.import_module("tqdm")
            except ImportError:
                return
            self._bar = tqdm.tqdm(
                total=total, desc=label, unit="inv", file=sys.stderr, leave=False, smoothing=0.1
            )

    def update(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
