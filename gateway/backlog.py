"""``GET /backlog``: invocations queued or running over every deployed function's streams.

What KEDA's ``metrics-api`` trigger scales the runners on (``valueLocation: backlog``,
deploy/kubernetes/base/scaledobject.yaml): one number for every function, so one trigger
serves any number of functions and partitions, and a function added later needs no change
to the ScaledObject.  Read on demand (one pipelined ``XLEN`` per queue:
:mod:`streamfn.backlog`), over the catalog's functions, each with the queues of its current
``PARTITIONS`` layout and of every layout it had before (:mod:`streamfn.layouts`), whose
streams may still hold work.
"""

from __future__ import annotations

from aiohttp import web

from streamfn import partitions
from streamfn.backlog import read_backlog
from streamfn.gateway import params
from streamfn.gateway.models import Backlog, NoQuery
from streamfn.gateway.responses import model_response
from streamfn.gateway.state import CATALOG, CLIENT, REDIS, SETTINGS
from streamfn.layouts import read_layouts


async def get_backlog(request: web.Request) -> web.Response:
    """The backlog of the catalog's functions (503 while the catalog cannot be read)."""
    params.query(request, NoQuery, request.app[SETTINGS])
    catalog, redis, keys = request.app[CATALOG], request.app[REDIS], request.app[CLIENT].keys
    if not catalog.healthy:
        raise catalog.unavailable()
    functions = catalog.functions
    old = await read_layouts(redis, keys)
    queues: set[str] = set()
    for fn, entry in functions.items():
        for p in {int(entry.get("partitions") or 1), *old.get(fn, {})}:
            if partitions.is_partition_count(p):
                queues.update(partitions.queues(fn, p))
    total = await read_backlog(redis, keys, sorted(queues))
    return model_response(Backlog(backlog=total, functions=len(functions), queues=len(queues)))
