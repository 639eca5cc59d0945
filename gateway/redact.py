"""What a token may not see is replaced by ``"[redacted]"`` before an answer is encoded.

A token sees the payloads, results, errors and logs of a function's invocations when its
``see_payloads`` flag is on (the default for every role but viewer) and its pattern matches
the function (``Token.sees_data``).  An error keeps its ``type`` (an exception class name) and
loses its message and traceback, which often quote the data.  While auth is off there is no
token on the request and nothing is redacted.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from streamfn.gateway.auth import PRINCIPAL

REDACTED = "[redacted]"


def sees_data(request: web.Request, function: str) -> bool:
    """True when ``request``'s token may see ``function``'s data (always, with auth off)."""
    token = request.get(PRINCIPAL)
    return token is None or token.sees_data(function)


def error(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return {"type": value["type"], "message": REDACTED}
    return REDACTED


def invocation(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
    """An invocation's JSON (``Invocation.to_json``) as ``request``'s token may see it."""
    if sees_data(request, body["function"]):
        return body
    shown = dict(body)
    for key in ("payload", "result"):
        if key in shown:
            shown[key] = REDACTED
    if "error" in shown:
        shown["error"] = error(shown["error"])
    return shown


def dead_letters(request: web.Request, function: str, letters: list[dict[str, Any]]) -> list[Any]:
    """Dead letters' JSON (``DeadLetter.to_json``) of ``function``."""
    if sees_data(request, function):
        return letters
    return [{**letter, "payload": REDACTED, "error": error(letter["error"])} for letter in letters]


def log_lines(
    request: web.Request, function: str, lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """An invocation's log lines: their times, levels and streams stay, their messages go."""
    if sees_data(request, function):
        return lines
    return [{**line, "message": REDACTED} for line in lines]


def schedule(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
    """A schedule's JSON (``Schedule.to_json``): the payload it passes to every fire."""
    if sees_data(request, body["function"]) or "payload" not in body:
        return body
    return {**body, "payload": REDACTED}
