"""Schedules declared in function files (``SCHEDULE``), kept in step with those files.

Firing schedules is the timekeeper's (:mod:`streamfn.timekeeping`), which every runner runs
too.  Any number of copies of this sync is safe: a file's schedules have ids derived from the
file, so runners syncing the same file write each schedule once (an unchanged definition is a
no-op upsert).

Sync rules, per function file:

* loaded (new or changed): its ``SCHEDULE`` is synced: added, updated, and the ones it no
  longer declares deleted.  An invalid ``SCHEDULE`` is logged and nothing is written, so the
  last good version stays in force.
* failing to import: nothing changes (the last good version stays), as for the handler.
* deleted (this runner saw it loaded, and now the file is gone): its schedules are deleted.
  A missing functions directory deletes nothing: an unmounted volume is not a deletion.

Every ``RESYNC_INTERVAL`` seconds each runner syncs again every loaded file that declares a
``SCHEDULE``, which heals a schedule deleted through the API or lost with Redis's data.  A
file that declares none was cleaned of declared schedules when it loaded and is left alone,
so the periodic cost follows the files that declare schedules, not every function.
"""

from __future__ import annotations

import logging
import sys
import time

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.runner.discovery import Discovery
from streamfn.runner.handler_import import LoadedFunction
from streamfn.schedules import (
    ScheduleError,
    ScheduleStore,
    remove_declared,
    sync_declared,
)

log = logging.getLogger("streamfn.runner.scheduling")

SYNC_INTERVAL = 1.0
"""Seconds between checks for changed files (a discovery change also wakes the sync at once)."""
RESYNC_INTERVAL = 60.0
"""Seconds between full re-syncs of every loaded file's schedules."""


def declared_schedule(loaded: LoadedFunction) -> object:
    """The module-level ``SCHEDULE`` of a loaded function file (None when it has none)."""
    module = sys.modules.get(loaded.module_name)
    return getattr(module, "SCHEDULE", None)


class DeclaredSync(Loop):
    """Syncs file-declared schedules whenever discovery reports a change (and periodically)."""

    name = "declared-schedules"
    logger = log

    def __init__(
        self,
        store: ScheduleStore,
        discovery: Discovery,
        *,
        interval: float = SYNC_INTERVAL,
        resync_interval: float = RESYNC_INTERVAL,
    ) -> None:
        super().__init__(interval)
        self.store = store
        self.discovery = discovery
        self.resync_interval = resync_interval
        # function -> module name of the version last synced ("" = sync again).  A function
        # stays here while its file fails to import, so deleting the file later still counts.
        self.synced: dict[str, str] = {}
        # "<function>.py" -> why its SCHEDULE was refused; the announcer reports these under
        # ``errors`` (GET /functions) next to import errors, while the function itself serves.
        self.errors: dict[str, str] = {}
        self.declaring: set[str] = set()  # functions whose file declared a SCHEDULE when synced
        self._last_full = time.monotonic()

    async def tick(self) -> None:
        if time.monotonic() - self._last_full >= self.resync_interval:
            self._last_full = time.monotonic()
            for name in self.declaring & self.synced.keys():
                self.synced[name] = ""
        loaded = dict(self.discovery.functions)
        for name, fn in sorted(loaded.items()):
            if self.synced.get(name) != fn.module_name:
                await self._sync(name, fn)
        errors = self.discovery.errors
        if str(self.discovery.directory) in errors:
            return  # the directory is unreadable: its files are not known to be deleted
        for name in sorted(self.synced.keys() - loaded.keys()):
            if f"{name}.py" in errors:
                continue  # fails to import: the last good version stays
            removed = await remove_declared(self.store, name)
            del self.synced[name]
            self.declaring.discard(name)
            self.errors.pop(f"{name}.py", None)
            if removed:
                log.info("%s.py is gone: removed its schedules %s", name, ", ".join(removed))

    async def _sync(self, name: str, fn: LoadedFunction) -> None:
        declared = declared_schedule(fn)
        if declared is None:
            self.declaring.discard(name)
        else:
            self.declaring.add(name)
        try:
            report = await sync_declared(self.store, name, declared)
        except ScheduleError as exc:
            log.error("%s; its previous schedules (if any) stay in force", exc)
            self.errors[f"{name}.py"] = f"{exc}; its previous schedules (if any) stay in force"
        else:
            self.errors.pop(f"{name}.py", None)
            changed = report.created + report.updated + report.deleted
            if changed:
                log.info(
                    "%s.py schedules synced: created %s, updated %s, deleted %s",
                    name,
                    report.created or "-",
                    report.updated or "-",
                    report.deleted or "-",
                )
        self.synced[name] = fn.module_name


class Scheduling:
    """A runner's schedule part: the :class:`DeclaredSync` (and the store it writes)."""

    def __init__(self, redis: AnyRedis, keys: Keys, discovery: Discovery) -> None:
        self.store = ScheduleStore(redis, keys)
        self.declared = DeclaredSync(self.store, discovery)

    async def start(self) -> None:
        await self.declared.start()

    async def stop(self) -> None:
        await self.declared.stop()

    def wake(self) -> None:
        """A function file changed: sync declared schedules now."""
        self.declared.wake()
