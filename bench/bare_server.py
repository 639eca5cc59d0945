"""The bare-aiohttp ceiling: ``python -m bench.bare_server PORT``.

One aiohttp process on uvloop with a single route, ``POST /invoke/{fn}``, that reads the body
and answers ``202`` with a JSON body and ``Location`` header shaped like the gateway's accept,
with no Redis and no validation.  Issue 3's HTTP target (15,000/s) is defined as half the
bare-aiohttp ceiling, so the bench measures this server in the same run, with the same ``wrk``
settings as the gateway, rather than quoting a figure taken on another day.

It listens on 127.0.0.1 only, without an access log (the gateway's default), and stops on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys

import orjson
from aiohttp import web

BACKLOG = 1024


async def invoke(request: web.Request) -> web.Response:
    await request.read()
    inv = f"{request.match_info['fn']}.{secrets.token_hex(12)}"
    return web.Response(
        body=orjson.dumps({"id": inv, "status": "queued"}),
        status=202,
        headers={"Location": f"/invocations/{inv}"},
        content_type="application/json",
    )


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/invoke/{fn}", invoke)
    return app


async def serve(port: int) -> None:
    """Serve on ``127.0.0.1:port`` until SIGTERM or SIGINT."""
    runner = web.AppRunner(create_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port, backlog=BACKLOG).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit() or not 0 < int(argv[0]) < 65536:
        print("usage: python -m bench.bare_server PORT  (1-65535)", file=sys.stderr)
        return 2
    import uvloop

    uvloop.run(serve(int(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
