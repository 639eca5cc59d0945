"""Import one handler file into a :class:`LoadedFunction`, or say precisely why it cannot be.

Modules are imported with ``spec_from_file_location`` under a private, generation-numbered
name (``_streamfn_fn_<stem>_<n>``): the name comes from a file stem already checked against
``FUNCTION_RE``, never from a request, and a reload never mixes with the previous version.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamfn.names import is_function_name
from streamfn.runner.policy import Policy, PolicyError, parse_policy
from streamfn.settings import Settings

Handler = Callable[[Any, Any], Any]


class LoadError(Exception):
    """A handler file that cannot be loaded; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class LoadedFunction:
    """One imported handler module: what the executor needs to run an invocation."""

    name: str
    path: Path
    handle: Handler
    is_async: bool
    policy: Policy
    module_name: str
    log: logging.Logger
    queue: str = ""
    """Whose keys this view reads: the home queue (the name) or a partition queue
    (:mod:`streamfn.partitions`); :meth:`Discovery.queues` makes one view per queue."""

    @property
    def kind(self) -> str:
        return "async" if self.is_async else "sync"

    @property
    def isolated(self) -> bool:
        """Runs in a child process (:mod:`runner.isolation`), not inside the runner."""
        return self.policy.isolate

    @property
    def cancellable(self) -> bool:
        """Cancelling its task stops the work: a coroutine, or a child process that is killed.

        Only a plain ``def`` handler running in a runner thread cannot be stopped.
        """
        return self.is_async or self.policy.isolate

    def to_report(self) -> dict[str, Any]:
        """The entry for this function in the runner's registry report."""
        return {**self.policy.to_report(), "kind": self.kind}


def check_file_name(path: Path) -> str | None:
    """None when ``path`` names a loadable function, else the error to report."""
    if is_function_name(path.stem):
        return None
    return (
        f"{path.name!r} is not a valid function file name: use lower-case letters, digits "
        "and '_', starting with a letter, at most 64 characters (e.g. resize_image.py); "
        "start the name with '_' for a private helper the runner should skip"
    )


def _is_async(handle: Any) -> bool:
    if inspect.iscoroutinefunction(handle):
        return True
    # An instance with ``async def __call__`` is awaited too.
    call = getattr(handle, "__call__", None)  # noqa: B004 - we want the bound method
    return inspect.iscoroutinefunction(call)


def _where(exc: BaseException, path: Path) -> str:
    """' (line N)' of the deepest frame inside the handler file, when there is one."""
    if isinstance(exc, SyntaxError):
        return ""  # str(SyntaxError) already names the file and line
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f" (line {frames[-1].lineno})" if frames else ""


def load_function(path: Path, settings: Settings, generation: int) -> LoadedFunction:
    """Import ``path`` (its stem must pass :func:`check_file_name`) and check its contract."""
    name = path.stem
    module_name = f"_streamfn_fn_{name}_{generation}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot import {path.name}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs, so dataclasses and typing in the handler module resolve.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: user code
        sys.modules.pop(module_name, None)
        raise LoadError(
            f"import failed with {type(exc).__name__}: {exc}{_where(exc, path)}; "
            "fix the module so it imports, then save it again"
        ) from None
    try:
        handle = getattr(module, "handle", None)
        if handle is None or not callable(handle):
            raise LoadError(
                "defines no callable 'handle'; add 'async def handle(payload, ctx)' "
                "or 'def handle(payload, ctx)'"
            )
        try:
            policy = parse_policy(module, settings, is_async=_is_async(handle))
        except PolicyError as exc:
            raise LoadError(f"invalid policy: {exc}") from None
    except LoadError:
        sys.modules.pop(module_name, None)
        raise
    return LoadedFunction(
        name=name,
        path=path,
        handle=handle,
        is_async=_is_async(handle),  # an isolated handler is checked again in its worker
        policy=policy,
        module_name=module_name,
        log=logging.getLogger(f"streamfn.fn.{name}"),
        queue=name,
    )


def unload(function: LoadedFunction) -> None:
    """Forget the module; invocations already running keep their reference to ``handle``."""
    sys.modules.pop(function.module_name, None)
