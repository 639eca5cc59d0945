"""Isolated execution: a small pool of worker processes per function, which the runner can kill.

| module     | holds                                                                     |
|------------|---------------------------------------------------------------------------|
| ``calls``  | the three ways a handler is called (isolated, ``async def``, thread)      |
| ``pools``  | the warm workers of each isolated function; a timeout kills the worker    |
| ``worker`` | the runner's side of one worker process: start, call, kill                |
| ``child``  | the worker process itself (``python -m streamfn.runner.isolation.child``) |
| ``wire``   | the length-prefixed frames between the two                                |

The package imports nothing itself: a worker process starts by importing it, and should load
only what :mod:`.child` needs.
"""
