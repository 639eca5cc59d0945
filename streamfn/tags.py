"""Invocation tags: short labels an invocation carries for search (``X-Tags: a,b``, ``?tag=``).

Tags are stored on the record (``tags``, comma-separated) and indexed per queue
(:mod:`streamfn.index`), so the charset excludes the index's separators (``:`` and ``,``)
and anything a shell or a Redis pattern would read specially.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TAG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
"""A tag: 1-32 letters, digits, ``_``, ``.`` or ``-``, starting with a letter or digit."""

MAX_TAGS = 8
"""Most tags one invocation may carry."""

RULE = (
    f"at most {MAX_TAGS} tags of 1-32 letters, digits, '_', '.' or '-', each starting with a "
    "letter or digit, comma-separated"
)


class TagError(ValueError):
    """A tag list that breaks :data:`RULE`; the message names the offending tag."""


def is_tag(value: str) -> bool:
    return TAG_RE.fullmatch(value) is not None


def parse(values: Iterable[str]) -> tuple[str, ...]:
    """Tags from comma-separated ``values`` (each a header or query value): stripped, each
    kept once in first-seen order; :class:`TagError` for a bad tag or too many."""
    tags: dict[str, None] = {}
    for value in values:
        for raw in value.split(","):
            tag = raw.strip()
            if not tag:
                continue
            if not is_tag(tag):
                shown = tag if len(tag) <= 40 else tag[:40] + "..."
                raise TagError(f"invalid tag {shown!r}: use {RULE}")
            tags[tag] = None
    if len(tags) > MAX_TAGS:
        raise TagError(f"{len(tags)} tags given: use {RULE}")
    return tuple(tags)
