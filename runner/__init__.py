"""The runner: discovers ``functions/*.py``, reads their streams and runs the handlers.

``python -m runner`` (or ``streamfn runner``) starts one; :mod:`runner.supervisor` wires the
loops (discovery, reader, executor with its deadline sweep for ``async def`` timeouts,
completer, heartbeat, announcer, reclaimer, janitor, promoter, metrics) and owns signals and
graceful shutdown.  The runner never imports the gateway.
"""
