"""Who may call each route: the role it needs, by route name, beside the route table.

The ladder is :class:`streamfn.tokens.Role` (viewer < invoker < operator < admin; each role
may do all a lower one may).  Every route of ``routes.ROUTES`` must have an entry here, and
every entry must name a route: :func:`check_table` refuses a gateway otherwise, so a new
route cannot be served without deciding who may call it.  ``OPEN`` routes need no token.
The table applies only when auth is on (``streamfn/auth_plan.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from streamfn.gateway.contract import Route
from streamfn.settings import Settings
from streamfn.tokens import Role


@dataclass(frozen=True, slots=True)
class Access:
    """``role``: the least role that may call the route; None: open.  ``invokes``: the path
    parameter naming a function the token's pattern must match.  ``open_unless``: a boolean
    setting; while it is false the route is open."""

    role: Role | None
    invokes: str | None = None
    open_unless: str | None = None

    def required(self, settings: Settings) -> Role | None:
        """The role this route needs under ``settings``; None: open."""
        if self.open_unless is not None and not getattr(settings, self.open_unless):
            return None
        return self.role


OPEN = Access(None)
VIEWER = Access(Role.VIEWER)
OPERATOR = Access(Role.OPERATOR)
ADMIN = Access(Role.ADMIN)

ACCESS: Mapping[str, Access] = {
    # invoking: the function must match the token's pattern
    "invoke": Access(Role.INVOKER, invokes="fn"),
    # reading (payloads, results, errors and logs redacted unless the token sees them)
    "get_invocation": VIEWER,
    "get_invocation_logs": VIEWER,
    "list_invocations": VIEWER,
    "list_functions": VIEWER,
    "get_function": VIEWER,
    "list_runners": VIEWER,
    "get_backlog": VIEWER,
    "list_dead_letters": VIEWER,
    "list_schedules": VIEWER,
    "get_schedule": VIEWER,
    # operating
    "cancel_invocation": OPERATOR,
    "replay": OPERATOR,
    "discard": OPERATOR,
    "pause_function": OPERATOR,
    "resume_function": OPERATOR,
    "create_schedule": OPERATOR,
    "put_schedule": OPERATOR,
    "delete_schedule": OPERATOR,
    "pause_schedule": OPERATOR,
    "resume_schedule": OPERATOR,
    # administering
    "remove_function": ADMIN,
    # the browser session: login checks the token it is given
    "login": OPEN,
    "logout": OPEN,
    # the gateway itself
    "healthz": OPEN,
    "openapi": OPEN,
    "metrics": Access(Role.VIEWER, open_unless="metrics_auth"),
    # the gateway's pages: static files; what they show comes from the routes above, with
    # the session's token (the dashboard asks for one when a call answers 401)
    "ui": OPEN,
    "docs": OPEN,
    "static_asset": OPEN,
}


class AccessTableError(RuntimeError):
    """The route table and the access table disagree (a programming error, not a setting)."""


def check_table(routes: Iterable[Route], table: Mapping[str, Access] = ACCESS) -> None:
    """Raise unless every route has an entry and every entry names a route."""
    names = [route.name for route in routes]
    missing = [name for name in names if name not in table]
    if missing:
        raise AccessTableError(
            f"route(s) {', '.join(missing)} have no entry in gateway/access.py ACCESS: "
            "say which role may call each"
        )
    stale = sorted(set(table) - set(names))
    if stale:
        raise AccessTableError(f"ACCESS names route(s) that do not exist: {', '.join(stale)}")
    for name, access in table.items():
        if access.invokes is not None and access.role is None:
            raise AccessTableError(f"ACCESS[{name!r}] checks a function pattern but is open")


def access_of(route: Route) -> Access:
    """The entry of ``route`` (:func:`check_table` has made sure there is one)."""
    return ACCESS[route.name]
