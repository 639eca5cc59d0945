"""Timekeeping: the work that waits for a time, done by whoever runs a timekeeper (every runner,
and the ``streamfn scheduler`` process, so it goes on with no runner live).

| module            | holds                                                              |
|-------------------|--------------------------------------------------------------------|
| ``clock``         | ``RedisClock``: an estimate of Redis ``TIME``, to decide when to ask |
| ``promotion``     | moving a queue's due timers into its stream (``promote.lua``)      |
| ``schedule_fires``| firing a function's due schedules (``schedule_fire.lua``)          |
| ``timekeeper``    | the loop: the tags' due indexes, their wake channels, the sleep    |
| ``known``         | which queues exist, from the registry, with no runner live         |
| ``scheduler``     | the ``streamfn scheduler`` process: a timekeeper of the known queues |

It uses the schedules, scripts and core packages; the runner and the CLI use it.
"""

from streamfn.timekeeping.clock import RedisClock
from streamfn.timekeeping.timekeeper import Timekeeper

__all__ = ["RedisClock", "Timekeeper"]
