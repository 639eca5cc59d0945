"""Discovery: keep ``functions_dir/*.py`` loaded while files are added, changed and removed.

The directory is polled (no inotify dependency, works on every filesystem) and a file is
re-imported when its ``(mtime_ns, size, inode)`` changes; an editor that replaces the file
changes the inode, one that rewrites in place changes mtime or size.  Each poll stats the
directory itself: a file added, removed or replaced (a rename) changes its mtime, and only
then, or every :data:`FULL_SCAN_INTERVAL`, is every file looked at; between those, only files
changed in the last :data:`RECENT_S` are (an editor still writing).  So a rewrite in place of
a file left alone for a while is seen within a second, anything else within a poll, and a
directory of a thousand functions costs a stat per poll, not a thousand.  Every failure to load
is reported in :attr:`Discovery.errors` by file name and logged; none stops the runner.
:attr:`Discovery.removed` names the functions this runner had loaded whose file has since
left the directory (not a directory that vanished as a whole: that is reported as an error,
like an unmounted volume, and removes nothing), until a file of that name is back.

:attr:`Discovery.queues` is what the runner reads and sweeps: one view of each loaded function
per queue (:mod:`streamfn.partitions`) of its ``PARTITIONS`` layout and of the older layouts
that still need reading (:meth:`Discovery.set_old_layouts`, from :mod:`streamfn.layouts`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from streamfn import partitions
from streamfn.loop import Periodic
from streamfn.runner.handler_import import (
    LoadedFunction,
    LoadError,
    check_file_name,
    load_function,
    unload,
)
from streamfn.settings import Settings

log = logging.getLogger("streamfn.runner.discovery")

POLL_INTERVAL = 0.25
FULL_SCAN_INTERVAL = 1.0
RECENT_S = 2.0
IMPORT_TIMEOUT = 10.0

FileKey = tuple[int, int, int]  # (mtime_ns, size, inode)


class Discovery:
    """The loaded functions and the load errors, kept current by a polling loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        poll_interval: float = POLL_INTERVAL,
        import_timeout: float = IMPORT_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.directory = Path(settings.functions_dir)
        self.poll_interval = poll_interval
        self.import_timeout = import_timeout
        self.functions: dict[str, LoadedFunction] = {}
        self.queues: dict[str, LoadedFunction] = {}
        self.old_layouts: dict[str, frozenset[int]] = {}
        self.errors: dict[str, str] = {}
        self.removed: set[str] = set()
        self.version = 0
        self._had: set[str] = set()  # stems this process ever loaded
        self._seen: dict[str, FileKey] = {}
        self._dir_key: tuple[int, int] | None = None  # (mtime_ns, inode) at the last full look
        self._full_at = 0.0  # monotonic: when every file is looked at again
        self._listeners: list[Callable[[], None]] = []
        self._generation = itertools.count(1)
        self._poller = Periodic("discovery", poll_interval, self._scan_quietly, logger=log)

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (in the event loop) after every change."""
        self._listeners.append(callback)

    async def start(self) -> None:
        """Load what is there now, then keep watching."""
        await self.scan()
        await self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()

    async def _scan_quietly(self) -> None:
        try:
            await self.scan()
        except Exception:  # a bug here must not end the watching
            log.exception("function discovery failed; retrying")

    def _look(self) -> dict[str, FileKey] | None:
        """Every file's key: a full snapshot when the directory changed or one is due, else
        the last one with the recently changed files looked at again."""
        try:
            st = os.stat(self.directory)
            key: tuple[int, int] | None = (st.st_mtime_ns, st.st_ino)
        except OSError:
            key = None
        now = time.monotonic()
        if key is None or key != self._dir_key or now >= self._full_at:
            self._dir_key, self._full_at = key, now + FULL_SCAN_INTERVAL
            return self._snapshot()
        recent = time.time_ns() - int(RECENT_S * 1e9)
        directory = str(self.directory)
        changed: dict[str, FileKey] = {}
        for name, (mtime, _, _) in self._seen.items():
            if mtime >= recent:
                try:
                    st = os.stat(os.path.join(directory, name))
                except OSError:  # gone: the directory's mtime says so at the next poll
                    continue
                now_key = (st.st_mtime_ns, st.st_size, st.st_ino)
                if now_key != self._seen[name]:
                    changed[name] = now_key
        return {**self._seen, **changed} if changed else self._seen

    def _snapshot(self) -> dict[str, FileKey] | None:
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return None
        found: dict[str, FileKey] = {}
        for entry in entries:
            if not entry.name.endswith(".py") or entry.name.startswith("_"):
                continue
            try:
                st = entry.stat()
            except OSError:  # removed between listing and stat
                continue
            if entry.is_file():
                found[entry.name] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return found

    async def scan(self) -> bool:
        """One poll of the directory; returns True (and notifies listeners) on any change."""
        found = self._look()
        if found is self._seen:  # the directory and the files being edited are as they were
            return False
        if found is None:
            changed = self._directory_missing()
        else:
            changed = self.errors.pop(str(self.directory), None) is not None
            for file in self._seen.keys() - found.keys():
                self._forget(file)
                if Path(file).stem in self._had:
                    self.removed.add(Path(file).stem)
                changed = True
            for file, key in sorted(found.items()):
                if self._seen.get(file) != key:
                    self.removed.discard(Path(file).stem)
                    self._seen[file] = key
                    await self._load(file)
                    changed = True
        if changed:
            self._changed()
        return changed

    def set_old_layouts(self, layouts: Mapping[str, Iterable[int]]) -> None:
        """Also read these ``PARTITIONS`` layouts of loaded functions (a change of P left
        work in them, or another runner still uses them); notifies listeners on a change."""
        new = {fn: frozenset(ps) for fn, ps in layouts.items() if ps}
        if new != self.old_layouts:
            self.old_layouts = new
            self._changed()

    def _changed(self) -> None:
        queues: dict[str, LoadedFunction] = {}
        for name, fn in sorted(self.functions.items()):
            layouts = {fn.policy.partitions} | self.old_layouts.get(name, frozenset())
            for p in sorted(layouts):
                for q in partitions.queues(name, p):
                    queues.setdefault(q, fn if q == name else replace(fn, queue=q))
        self.queues = queues
        self.version += 1
        for callback in self._listeners:
            callback()

    def _directory_missing(self) -> bool:
        key = str(self.directory)
        if key in self.errors:
            return False
        for file in list(self._seen):
            self._forget(file)
        self.errors[key] = (
            f"functions directory {key} does not exist or cannot be read; create it or point "
            "STREAMFN_FUNCTIONS_DIR at the directory holding your handlers"
        )
        log.error("%s", self.errors[key])
        return True

    def _forget(self, file: str) -> None:
        self._seen.pop(file, None)
        self.errors.pop(file, None)
        old = self.functions.pop(Path(file).stem, None)
        if old is not None:
            unload(old)
            log.info("function %s removed (%s is gone)", old.name, file)

    async def _load(self, file: str) -> None:
        """(Re)load one file; the old version stays in place until the new one is ready."""
        path = self.directory / file
        stem = Path(file).stem
        problem = check_file_name(path)
        if problem is None:
            try:
                # A thread, so a slow or hanging import cannot stall heartbeats and reads.
                async with asyncio.timeout(self.import_timeout):
                    loaded = await asyncio.to_thread(
                        load_function, path, self.settings, next(self._generation)
                    )
            except LoadError as exc:
                problem = str(exc)
            except TimeoutError:
                problem = (
                    f"import took longer than {self.import_timeout:g} s; move slow work "
                    "(network calls, model loading) out of module level into handle()"
                )
            else:
                old = self.functions.get(stem)
                if old is not None and old.policy.partitions != loaded.policy.partitions:
                    # Keep reading the layout just left until the layout follower says it is
                    # drained and unused (it may hold queued, running and delayed work).
                    kept = self.old_layouts.get(stem, frozenset())
                    self.old_layouts[stem] = kept | {old.policy.partitions}
                self.functions[stem] = loaded
                self._had.add(stem)
                if old is not None:
                    unload(old)
                self.errors.pop(file, None)
                log.info(
                    "loaded function %s (%s, timeout %gs, retries %d)",
                    stem,
                    loaded.kind,
                    loaded.policy.timeout,
                    loaded.policy.retries,
                )
                return
        old = self.functions.pop(stem, None)
        if old is not None:
            unload(old)
        self.errors[file] = problem
        log.error("cannot load %s: %s", path, problem)
