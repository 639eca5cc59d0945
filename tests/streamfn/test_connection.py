"""Redis URLs in messages: the password never shows."""

from __future__ import annotations

from streamfn.connection import redact


def test_redact_hides_only_the_password() -> None:
    assert redact("redis://u:pw@10.0.0.1:6379/0") == "redis://u:***@10.0.0.1:6379/0"
    assert redact("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
