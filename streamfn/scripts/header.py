"""A script's key shape, read from the ``KEYS[...]`` lines of its header.

Every ``lua/<name>.lua`` opens with a ``--[[ <name>: <purpose>`` block that ends at the first
``]]``; ``<name>`` is the file's name.  Inside the block, each line that starts with ``KEYS[``
declares keys, in one of these forms (the rest of the line is documentation):

    KEYS[<k>]      <pattern> <type> <what>   the k-th key; fixed keys are numbered 1, 2, ...
    KEYS[<k>]      ... optional ...           a fixed key the caller may leave out; optional
                                              keys come after every required one
    KEYS[<k>..n]   ...                        a variadic tail: keys k, k+1, ... (zero or more);
                                              k is one more than the fixed keys
    KEYS[<j>+i]    ... (i = 1..n)             a variadic tail: key j+i of item i (zero or more
                                              items); j is the number of fixed keys

A script has optional keys or a variadic tail, not both, and at most one tail, declared last.
The block's other lines (ARGV, Returns, Errors, prose) are not parsed.  A ``KEYS[`` line
outside this grammar, a missing or misnamed header, or a misnumbered key raises
:class:`HeaderError` naming the file and the line.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

_OPEN = re.compile(r"--\[\[ ([a-z_][a-z0-9_]*):")
_KEY = re.compile(r"KEYS\[(?:(\d+)|(\d+)\.\.n|(\d+)\+i)\](?:\s+(.*))?$")
_OPTIONAL = re.compile(r"\boptional\b")


class HeaderError(ValueError):
    """A script header that does not follow the grammar of :mod:`streamfn.scripts.header`."""


@dataclass(frozen=True, slots=True)
class KeyShape:
    """How many keys a script takes: ``required`` always, up to ``optional`` more, or any
    number more when ``variadic``."""

    required: int
    optional: int = 0
    variadic: bool = False

    @property
    def most(self) -> int:
        """The largest count accepted (``sys.maxsize`` for a variadic tail)."""
        return sys.maxsize if self.variadic else self.required + self.optional

    def accepts(self, count: int) -> bool:
        return self.required <= count <= self.most

    def describe(self) -> str:
        n = self.required
        if self.variadic:
            return f"{n} or more keys"
        if self.optional:
            return f"{n} to {self.most} keys" if self.optional > 1 else f"{n} or {n + 1} keys"
        return f"{n} key" if n == 1 else f"{n} keys"


def parse_header(name: str, source: str) -> KeyShape:
    """The key shape ``lua/<name>.lua`` declares; :class:`HeaderError` if it breaks the grammar."""
    where = f"lua/{name}.lua"
    opened = _OPEN.match(source)
    if opened is None or "]]" not in source:
        raise HeaderError(f"{where}: must open with a '--[[ {name}: <purpose>' block ending in ]]")
    if opened.group(1) != name:
        raise HeaderError(f"{where}: its header names {opened.group(1)!r}, not {name!r}")
    required = optional = 0
    variadic = False
    block = source[: source.index("]]")].splitlines()
    for number, line in enumerate(block, start=1):
        if not line.startswith("KEYS["):
            continue
        at = f"{where}:{number}: {line.strip()!r}"
        m = _KEY.match(line.rstrip())
        if m is None:
            raise HeaderError(f"{at}: not KEYS[k], KEYS[k..n] or KEYS[j+i] (see the grammar)")
        fixed, tail_from, item_base = m.group(1), m.group(2), m.group(3)
        fixed_so_far = required + optional
        if variadic:
            raise HeaderError(f"{at}: nothing may follow the variadic tail")
        if fixed is not None:
            if int(fixed) != fixed_so_far + 1:
                raise HeaderError(f"{at}: expected KEYS[{fixed_so_far + 1}] here")
            if _OPTIONAL.search(m.group(4) or ""):
                optional += 1
            elif optional:
                raise HeaderError(f"{at}: a required key may not follow an optional one")
            else:
                required += 1
            continue
        start = int(tail_from) if tail_from is not None else int(item_base) + 1
        if start != fixed_so_far + 1:
            raise HeaderError(f"{at}: the tail must start at KEYS[{fixed_so_far + 1}]")
        if optional:
            raise HeaderError(f"{at}: a script has optional keys or a variadic tail, not both")
        variadic = True
    return KeyShape(required, optional, variadic)
