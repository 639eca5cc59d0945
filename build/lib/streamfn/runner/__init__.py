"""The runner: discovers ``functions/*.py``, reads their streams and runs the handlers.

``streamfn runner`` (or ``python -m streamfn runner``) starts one; :mod:`runner.supervisor`
wires the loops (discovery, reader, executor with its deadline sweep for ``async def``
timeouts, completer, heartbeat, announcer, reclaimer, janitor, promoter, metrics) and owns
graceful shutdown; the command owns the process and its signals.  The runner never imports
the gateway.
"""
