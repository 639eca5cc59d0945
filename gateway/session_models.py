"""Bodies and headers of ``POST /login`` and ``POST /logout`` (``gateway/session.py``)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

from streamfn.tokens import Role


class LoginBody(Struct, kw_only=True, forbid_unknown_fields=True):
    """The token to log in with (a form field ``token`` works too)."""

    token: Annotated[str, Meta(min_length=1, max_length=256)]


class LoggedIn(Struct, kw_only=True):
    """Who the session is; ``csrf`` goes with every state-changing request it makes."""

    name: str
    role: Annotated[str, Meta(extra_json_schema={"enum": [r.label for r in Role]})]
    csrf: Annotated[
        str,
        Meta(
            description="send as the X-CSRF-Token header, or a form's csrf field, on POST, PUT "
            "and DELETE"
        ),
    ]


class LoggedOut(Struct, kw_only=True):
    status: Literal["logged_out"]


class SessionCookie(Struct):
    """Response headers of a login or logout."""

    set_cookie: Annotated[
        str, Meta(description="streamfn_session: HttpOnly, SameSite=Strict, Path=/")
    ] = field(name="Set-Cookie")
