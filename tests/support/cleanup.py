"""How long a gone runner's consumers may outlive it, for the tests that check the janitor.

Its registry report outlives it by at most its TTL (three heartbeats, at least 5 s); a live
runner's janitor sees it gone at its next look (``sweep_interval`` apart, jittered by
``JITTER``), and sweeps once the consumer can go (``reapable_after``: its entries reclaimed,
idle past ``STREAMFN_CONSUMER_IDLE_LIMIT``), plus up to one more interval of jitter.
"""

from __future__ import annotations

from streamfn.runner.announcer import MIN_TTL
from streamfn.runner.janitor import JITTER, reapable_after, sweep_interval
from streamfn.settings import Settings


def cleanup_bound(settings: Settings) -> float:
    """Seconds from a runner's death until its consumers are deleted, while a runner runs."""
    report_ttl = max(MIN_TTL, 3 * settings.heartbeat_interval)
    looks = sweep_interval(settings) * (1 + JITTER)
    return report_ttl + looks + reapable_after(settings) + sweep_interval(settings)
