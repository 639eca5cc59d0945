"""The app factory: settings and metrics in the app, Redis connected only on startup."""

from __future__ import annotations

from streamfn.gateway.app import create_app
from streamfn.gateway.state import METRICS, REDIS, SETTINGS
from streamfn.settings import Settings


def test_create_app_holds_settings_and_metrics(settings: Settings) -> None:
    app = create_app(settings)
    assert app[SETTINGS] is settings
    assert app[METRICS] is not None
    assert REDIS not in app  # connected on startup, not in the factory
