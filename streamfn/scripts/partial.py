"""A cluster batch some of whose masters failed: :class:`PartialBatch`, and :func:`settle`,
which both cluster paths (:func:`streamfn.scripts._send_each` and
:mod:`streamfn.scripts.cluster_durable`) end with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError


class PartialBatch(RedisConnectionError):
    """A cluster batch whose calls on some masters failed (a connection error: a master is
    down) while those on the others ran.  ``results`` has every call's reply or error in
    place (a call never sent gets its slot's error).  A caller that retries a whole batch
    on a connection error still can; one that answers each call (the gateway's batcher)
    answers from ``results``, so a call that ran is not refused for another master's fault.
    """

    def __init__(self, message: str, results: list[Any]) -> None:
        super().__init__(message)
        self.results = results


def settle(results: list[Any], failures: Sequence[RedisError | OSError]) -> list[Any]:
    """``results`` when no master failed; else the first failure, raised as it is when every
    call failed so (nothing else to answer), or as :class:`PartialBatch`."""
    if not failures:
        return results
    if all(isinstance(r, RedisError | OSError) and r in failures for r in results):
        raise failures[0]
    raise PartialBatch(str(failures[0]), results)
