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
    shape = _Declared()
    for number, line in enumerate(_header_block(where, name, source), start=1):
        if line.startswith("KEYS["):
            shape.add(f"{where}:{number}: {line.strip()!r}", line.rstrip())
    return KeyShape(shape.required, shape.optional, shape.variadic)


def _header_block(where: str, name: str, source: str) -> list[str]:
    """The lines of the opening ``--[[ <name>: ... ]]`` block, checked to name the file."""
    opened = _OPEN.match(source)
    if opened is None or "]]" not in source:
        raise HeaderError(f"{where}: must open with a '--[[ {name}: <purpose>' block ending in ]]")
    if opened.group(1) != name:
        raise HeaderError(f"{where}: its header names {opened.group(1)!r}, not {name!r}")
    return source[: source.index("]]")].splitlines()


@dataclass(slots=True)
class _Declared:
    """The keys declared so far, one ``KEYS[`` line at a time (``at`` names the line)."""

    required: int = 0
    optional: int = 0
    variadic: bool = False

    def add(self, at: str, line: str) -> None:
        m = _KEY.match(line)
        if m is None:
            raise HeaderError(f"{at}: not KEYS[k], KEYS[k..n] or KEYS[j+i] (see the grammar)")
        if self.variadic:
            raise HeaderError(f"{at}: nothing may follow the variadic tail")
        fixed, tail_from, item_base, rest = m.groups()
        if fixed is not None:
            self._fixed(at, int(fixed), rest or "")
        else:
            self._tail(at, int(tail_from) if tail_from is not None else int(item_base) + 1)

    def _fixed(self, at: str, k: int, rest: str) -> None:
        if k != self.required + self.optional + 1:
            raise HeaderError(f"{at}: expected KEYS[{self.required + self.optional + 1}] here")
        if _OPTIONAL.search(rest):
            self.optional += 1
        elif self.optional:
            raise HeaderError(f"{at}: a required key may not follow an optional one")
        else:
            self.required += 1

    def _tail(self, at: str, start: int) -> None:
        if start != self.required + self.optional + 1:
            raise HeaderError(
                f"{at}: the tail must start at KEYS[{self.required + self.optional + 1}]"
            )
        if self.optional:
            raise HeaderError(f"{at}: a script has optional keys or a variadic tail, not both")
        self.variadic = True
