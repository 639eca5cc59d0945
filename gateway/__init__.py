"""The HTTP gateway: accepts invocations, reports their state, and exposes metrics.

``gateway.app.create_app`` builds the aiohttp application; ``python -m gateway`` (or
``streamfn gateway``) runs it.  Handlers only parse, call :class:`streamfn.client.Client`
and shape JSON; every Redis state change goes through the Lua scripts behind that client.
"""
