"""How long a gone runner's consumers may outlive it, for the tests that check the janitor.

Its entries are reclaimed after the visibility timeout plus a claim interval, its consumer
must then be idle past ``STREAMFN_CONSUMER_IDLE_LIMIT``, and the next sweep of any runner
deletes it; sweeps are ``sweep_interval`` apart, jittered by ``JITTER``.
"""

from __future__ import annotations

from streamfn.runner.janitor import JITTER, sweep_interval
from streamfn.settings import Settings


def cleanup_bound(settings: Settings) -> float:
    """Seconds from a runner's death until its consumers are deleted, while a runner runs."""
    ready = max(settings.consumer_idle_limit, settings.visibility_timeout + settings.claim_interval)
    return ready + sweep_interval(settings) * (1 + JITTER)
