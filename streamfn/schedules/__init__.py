"""Schedules: cron (with seconds and time zones) and interval fires, exactly once per planned
time with any number of schedulers.  See ``docs/schedules.md``.

| module          | holds                                                             |
|-----------------|-------------------------------------------------------------------|
| ``spec``        | cron / every parsing and ``next_fire``                            |
| ``wallclock``   | wall-clock stepping in a time zone and the DST rules              |
| ``definition``  | ``ScheduleDef``: a request body or file declaration, checked      |
| ``schedule``    | ``Schedule``: definition plus fire state, as stored and shown     |
| ``firing``      | the misfire plan (pure)                                           |
| ``rdb``         | typed wrappers of ``lua/schedule_*.lua``                          |
| ``store``       | CRUD, pause and resume                                            |
| ``scheduler``   | the loop that fires due schedules                                 |
| ``declared``    | ``SCHEDULE`` in function files, synced into Redis                 |
"""

from streamfn.schedules.declared import SyncReport, parse_declared, remove_declared, sync_declared
from streamfn.schedules.definition import ScheduleDef, fire_invocation_id, parse_definition
from streamfn.schedules.schedule import Schedule
from streamfn.schedules.scheduler import Fired, Scheduler
from streamfn.schedules.spec import ScheduleError, Spec, next_fire
from streamfn.schedules.store import ScheduleStore

__all__ = [
    "Fired",
    "Schedule",
    "ScheduleDef",
    "ScheduleError",
    "ScheduleStore",
    "Scheduler",
    "Spec",
    "SyncReport",
    "fire_invocation_id",
    "next_fire",
    "parse_declared",
    "parse_definition",
    "remove_declared",
    "sync_declared",
]
