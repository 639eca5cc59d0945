"""The HTTP gateway: accepts invocations, reports their state, and exposes metrics.

``gateway.app.create_app`` builds the aiohttp application, ``gateway.server`` serves it, and
``streamfn gateway`` (or ``python -m streamfn gateway``) runs that process.  Handlers only
parse, call :class:`streamfn.client.Client` and shape JSON; every Redis state change goes
through the Lua scripts behind that client.
"""
