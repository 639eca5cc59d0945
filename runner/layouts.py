"""Layout follower: announce this runner's ``PARTITIONS`` layouts and read the old ones too.

Each announce, the runner records the layout of every function it loaded
(:func:`streamfn.layouts.announce`) and reads every layout ever recorded.  A layout of one of
its functions other than the loaded one is read as well (:meth:`Discovery.set_old_layouts`)
while it is in use (announced within :data:`~streamfn.layouts.GRACE_S`) or still holds work;
a stale one's streams and timers are looked at every :data:`DRAIN_CHECK_S` at most.  So a
change of ``P`` loses nothing: the old queues are read until they are empty and nobody can
send to them any more.
"""

from __future__ import annotations

from streamfn import layouts, partitions
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.runner.discovery import Discovery

DRAIN_CHECK_S = 30.0


class LayoutFollower:
    """Called by the announcer every interval (:meth:`step`)."""

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        discovery: Discovery,
        *,
        grace_s: float = layouts.GRACE_S,
        check_every_s: float = DRAIN_CHECK_S,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.discovery = discovery
        self.grace_ms = int(grace_s * 1000)
        self.check_every_ms = int(check_every_s * 1000)
        self._checked: dict[tuple[str, int], tuple[int, bool]] = {}  # -> (when, drained)

    async def step(self, now_ms: int) -> None:
        own = {name: fn.policy.partitions for name, fn in self.discovery.functions.items()}
        await layouts.announce(self.redis, self.keys, own, now_ms)
        known = await layouts.read_layouts(self.redis, self.keys)
        old: dict[str, set[int]] = {}
        for fn, current in own.items():
            for p, last in sorted(known.get(fn, {}).items()):
                if p in (1, current) or not partitions.is_partition_count(p):
                    continue
                if now_ms - last < self.grace_ms or not await self._drained(fn, p, now_ms):
                    old.setdefault(fn, set()).add(p)
        self.discovery.set_old_layouts(old)

    async def _drained(self, fn: str, p: int, now_ms: int) -> bool:
        checked = self._checked.get((fn, p))
        if checked is not None and now_ms - checked[0] < self.check_every_ms:
            return checked[1]
        # Home is shared by every layout: only the layout's own queues tell.
        empty = await layouts.drained(self.redis, self.keys, partitions.queues(fn, p)[1:])
        self._checked[(fn, p)] = (now_ms, empty)
        return empty
