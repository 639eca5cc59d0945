"""``GET /invocations?function=...``: a page of one function's invocations from the index."""

from __future__ import annotations

import math
from datetime import datetime

from aiohttp import web

from streamfn import index
from streamfn.errors import ErrorCode
from streamfn.gateway import params, redact
from streamfn.gateway.envelope import ApiError
from streamfn.gateway.index_models import InvocationsQuery
from streamfn.gateway.responses import json_response
from streamfn.gateway.state import CLIENT, SETTINGS


async def list_invocations(request: web.Request) -> web.Response:
    """Newest first, filtered, one page; ``next_cursor`` continues it."""
    q = params.query(request, InvocationsQuery, request.app[SETTINGS])
    client = request.app[CLIENT]
    try:
        query = index.Query(
            q.function,
            status=q.status,
            since_ms=_ms(q.since),
            until_ms=_ms(q.until),
            schedule=q.schedule,
            tag=q.tag,
            idempotency_key=q.idempotency_key,
            cursor=q.cursor,
            limit=q.limit,
        )
    except index.QueryError as exc:  # a cursor of another function, a time before 1970
        raise ApiError(ErrorCode.INVALID_PARAMETER, str(exc)) from None
    queues = await index.queues_of(client.redis, client.keys, q.function, client.queues(q.function))
    page = await index.list_page(client.redis, client.keys, queues, query)
    rows = [redact.invocation(request, row) for row in page.rows]  # errors, for a viewer
    return json_response(
        {"function": q.function, "invocations": rows, "next_cursor": page.next_cursor}
    )


def _ms(when: datetime | None) -> int | None:
    return None if when is None else math.floor(when.timestamp() * 1000)
