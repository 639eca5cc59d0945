"""Schedules: cron (with seconds and time zones) and interval fires, exactly once per planned
time with any number of schedulers.  See ``docs/schedules.md``.  What fires them is every
timekeeper (:mod:`streamfn.timekeeping`: each runner and each ``streamfn scheduler``); this
package is the logic.

| module          | holds                                                             |
|-----------------|-------------------------------------------------------------------|
| ``spec``        | cron / every parsing and ``next_fire``                            |
| ``wallclock``   | wall-clock stepping in a time zone and the DST rules              |
| ``definition``  | ``ScheduleDef``: a request body or file declaration, checked      |
| ``schedule``    | ``Schedule``: definition plus fire state, as stored and shown     |
| ``firing``      | the misfire plan (pure)                                           |
| ``due``         | one firing round's decisions: what is due, each step, the sleep   |
| ``rdb``         | typed wrappers of ``lua/schedule_*.lua``                          |
| ``store``       | CRUD, pause and resume                                            |
| ``declared``    | ``SCHEDULE`` in function files, synced into Redis                 |
"""

from streamfn.schedules.declared import SyncReport, parse_declared, remove_declared, sync_declared
from streamfn.schedules.definition import ScheduleDef, fire_invocation_id, parse_definition
from streamfn.schedules.due import Fired
from streamfn.schedules.schedule import Schedule
from streamfn.schedules.spec import ScheduleError, Spec, next_fire
from streamfn.schedules.store import ScheduleStore

__all__ = [
    "Fired",
    "Schedule",
    "ScheduleDef",
    "ScheduleError",
    "ScheduleStore",
    "Spec",
    "SyncReport",
    "fire_invocation_id",
    "next_fire",
    "parse_declared",
    "parse_definition",
    "remove_declared",
    "sync_declared",
]
