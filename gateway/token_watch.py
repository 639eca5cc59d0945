"""Rotating tokens without a restart: the tokens file is re-read when it changes.

Once a second the watcher ``stat``s the file (one system call: the cost does not grow with
traffic) and compares its modification time, size and inode with the last read; a change
(an edit, or a new file renamed over it) is read and parsed, and its tokens (with those of
``STREAMFN_TOKENS``) replace the current set at once.  A file that cannot be read or does
not parse keeps the tokens in force and logs an error, once per change.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from streamfn.gateway.auth import Authenticator
from streamfn.loop import Periodic
from streamfn.tokens import TokensError, read_tokens_file

log = logging.getLogger("streamfn.gateway")

POLL_INTERVAL = 1.0
"""Seconds between two looks at the tokens file."""

Signature = tuple[int, int, int, int] | None


def signature(path: Path) -> Signature:
    """What changes when the file does: mtime (ns), size, inode and device; None if absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)


class TokenFileWatcher:
    """Re-reads ``path`` into ``auth`` whenever its :func:`signature` changes."""

    def __init__(self, auth: Authenticator, path: Path, interval: float = POLL_INTERVAL) -> None:
        self.auth = auth
        self.path = path
        # () until the first look, which reads the file whatever it finds: it may have
        # changed since the start-up plan read it
        self.seen: Signature | tuple[()] = ()
        self._loop = Periodic("gateway-tokens", interval, self._check_quietly, logger=log)

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _check_quietly(self) -> None:
        self.check()

    def check(self) -> bool:
        """Re-read the file if it changed; True when other tokens are in force."""
        now = signature(self.path)
        if now == self.seen:
            return False
        self.seen = now
        try:
            tokens = self.auth.plan.fixed.merged(
                read_tokens_file(self.path), "STREAMFN_TOKENS and STREAMFN_TOKENS_FILE"
            )
        except TokensError as exc:
            log.error("tokens file not reloaded, the previous tokens stay in force: %s", exc)
            return False
        if len(tokens) == 0:
            log.error("tokens file %s holds no tokens; the previous tokens stay", self.path)
            return False
        if tokens == self.auth.tokens:
            return False
        self.auth.replace(tokens)
        log.info("tokens file %s reloaded: %d tokens", self.path, len(tokens))
        return True
