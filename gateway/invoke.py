"""``POST /invoke/{fn}``: queue an invocation, optionally waiting for its outcome.

Checks run cheapest-first and in a fixed order: the function name (before anything else sees
it), query and headers, body size, JSON, then the in-memory catalog.  Accepting costs one
script call; ``?wait=`` registers a waiter before enqueueing so an instant finish is seen.
"""

from __future__ import annotations

import asyncio

import orjson
from aiohttp import web
from redis.exceptions import ResponseError

from streamfn import tags as tag_rules
from streamfn.client import ID_ATTEMPTS, is_id_taken
from streamfn.errors import BacklogFull, ErrorCode
from streamfn.gateway import params, redact
from streamfn.gateway.envelope import ApiError, payload_too_large
from streamfn.gateway.models import InvokeHeaders, InvokePath, InvokeQuery
from streamfn.gateway.responses import accepted, json_response, location_headers
from streamfn.gateway.state import CATALOG, CLIENT, METRICS, SETTINGS, STOPPING
from streamfn.rdb import Enqueued
from streamfn.record import Invocation
from streamfn.tags import TagError


async def invoke(request: web.Request) -> web.Response:
    """202 with the new invocation's id, or 200 with its outcome if it finished within ?wait=."""
    app = request.app
    catalog, settings = app[CATALOG], app[SETTINGS]
    fn = request.match_info["fn"]
    try:
        params.path(request, InvokePath)
        options = params.query(request, InvokeQuery, settings)
        headers = params.headers(request, InvokeHeaders)
        key = headers.idempotency_key
        tags = _tags(options.tag, headers.tags)
        payload = await _payload(request, settings.max_body)
        if fn not in catalog.known:
            raise catalog.unknown(fn)
    except Exception:
        app[METRICS].invocation(catalog.label(fn), "rejected")
        raise
    if options.wait is not None:
        return await _submit_and_wait(request, fn, payload, options, key, options.wait, tags)
    enqueued = await _submit(app, fn, payload, options, key, tags=tags)
    if enqueued.created:
        return accepted(enqueued.id, enqueued.status, due_ms=enqueued.due_ms)
    invocation = await app[CLIENT].get(enqueued.id)
    return _outcome(request, enqueued.id, invocation, replayed=True, wait=False)


def _tags(query: str | None, header: str | None) -> tuple[str, ...]:
    """``?tag=`` and ``X-Tags`` together, each tag once (at most ``MAX_TAGS`` in all)."""
    if query is None and header is None:
        return ()
    try:
        return tag_rules.parse(v for v in (query, header) if v is not None)
    except TagError as exc:
        raise ApiError(ErrorCode.INVALID_PARAMETER, str(exc)) from None


async def _payload(request: web.Request, max_body: int) -> bytes:
    """The body as JSON bytes (stored as sent); an empty body means ``null``."""
    length = request.content_length
    if length is not None and length > max_body:
        raise payload_too_large(length, max_body)
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):  # a compressed body could expand past max_body
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Encoding {encoding[:32]!r} is not accepted; send the JSON uncompressed",
        )
    body = await request.read()  # client_max_size also bounds bodies sent without a length
    if not body:
        return b"null"
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            ErrorCode.INVALID_JSON,
            f"the request body is not valid JSON ({exc}); send one JSON value, "
            "or an empty body for a null payload",
        ) from None
    return body


async def _submit(
    app: web.Application,
    fn: str,
    payload: bytes,
    options: InvokeQuery,
    key: str | None,
    invocation_id: str | None = None,
    tags: tuple[str, ...] = (),
) -> Enqueued:
    """One enqueue script call, counted by outcome (a Redis failure counts as rejected)."""
    metrics = app[METRICS]
    try:
        enqueued = await app[CLIENT].enqueue(
            fn,
            payload,
            delay=options.delay or 0.0,
            at_ms=options.at_ms,
            idempotency_key=key,
            notify=invocation_id is not None,
            invocation_id=invocation_id,
            tags=tags,
        )
    except BacklogFull:  # 429 with Retry-After (gateway/envelope.py); nothing was written
        metrics.invocation(fn, "backlog_full")
        raise
    except Exception:
        metrics.invocation(fn, "rejected")
        raise
    metrics.invocation(fn, enqueued.status if enqueued.created else "duplicate")
    return enqueued


async def _submit_and_wait(
    request: web.Request,
    fn: str,
    payload: bytes,
    options: InvokeQuery,
    key: str | None,
    wait: float,
    tags: tuple[str, ...],
) -> web.Response:
    """Enqueue with a waiter already registered, then wait up to ``wait`` s for the outcome."""
    app = request.app
    client = app[CLIENT]
    hub = client.waiters
    for attempt in range(ID_ATTEMPTS):
        invocation_id = client.new_id(fn, key)  # the queue the key (or the turn) picks
        waiter = hub.register(invocation_id)
        try:
            enqueued = await _submit(app, fn, payload, options, key, invocation_id, tags)
        except ResponseError as exc:
            hub.unregister(invocation_id, waiter)
            if is_id_taken(exc) and attempt < ID_ATTEMPTS - 1:
                continue  # a fresh id met an existing record (odds 2**-40): draw another
            raise
        except BaseException:
            hub.unregister(invocation_id, waiter)
            raise
        break
    if not enqueued.created:  # an Idempotency-Key repeat: wait on the first invocation instead
        hub.unregister(invocation_id, waiter)
        return _outcome(request, enqueued.id, await client.wait(enqueued.id, wait), replayed=True)
    deadline = asyncio.get_running_loop().time() + wait
    await hub.wait_for(invocation_id, waiter, wait)
    invocation = await client.get(invocation_id)
    remaining = deadline - asyncio.get_running_loop().time()
    if invocation is not None and not invocation.final and remaining > 0:
        if app[STOPPING].is_set():  # woken by shutdown: answer now
            return _outcome(request, invocation_id, invocation)
        # A wake-up is a hint, not a promise: the hub's status sweep may have run before our
        # record existed.  The record exists now, so waiting on it again is exact.
        invocation = await client.wait(invocation_id, remaining)
    return _outcome(request, invocation_id, invocation)


def _outcome(
    request: web.Request,
    invocation_id: str,
    invocation: Invocation | None,
    *,
    replayed: bool = False,
    wait: bool = True,
) -> web.Response:
    """200 with the invocation once final (when waiting), else 202 with its current status."""
    if invocation is None:  # the record expired while its Idempotency-Key lives on
        return accepted(invocation_id, "expired", replayed=replayed)
    if wait and invocation.final:
        headers = location_headers(invocation_id, replayed=replayed)
        return json_response(redact.invocation(request, invocation.to_json()), 200, headers)
    return accepted(invocation_id, invocation.status, due_ms=invocation.due_ms, replayed=replayed)
