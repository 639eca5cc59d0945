"""Render the fault suite's last figures into ``docs/reliability.md``.

``python -m tests.fault.report`` reads the figures the scenarios wrote (``.fault/figures.json``,
or ``$FAULT_FIGURES``), replaces the table between the markers in the doc, and keeps a copy of
the JSON beside it (``docs/reliability.json``) so later runs can be compared like for like.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.fault.figures import FIGURES, ROOT, load

DOC = ROOT / "docs" / "reliability.md"
COPY = ROOT / "docs" / "reliability.json"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
ORDER = [
    "R1", "R2", "R3", "R4", "R4-no-heartbeat", "R7", "cancel", "R9", "R10",
    "D1", "D2", "D4", "D-noscript", "D7", "D8", "SF1", "SF1-durable", "CF1",
    "CF1-durable",
    "M1", "M2", "M3", "M4", "G1", "G2", "G3", "G-properties", "G-schemathesis",
]  # fmt: skip
MAIN = ("lost", "duplicates", "recovery_s")


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if value in ({}, []):
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value).replace("|", "\\|")


def _rank(key: str) -> tuple[int, str]:
    scenario, _, tier = key.partition(":")
    return (ORDER.index(scenario) if scenario in ORDER else len(ORDER), tier)


def table(data: dict[str, Any]) -> str:
    """The markdown table, one row per scenario and tier."""
    lines = [
        "| scenario | fault | expectation | lost | duplicates | recovery s | other figures |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key in sorted(data, key=_rank):
        row = data[key]
        figures = row["figures"]
        other = {k: v for k, v in figures.items() if k not in MAIN and not k.endswith("_sample")}
        name = row["scenario"] + (" (soak)" if row["tier"] == "soak" else "")
        cells = [f"**{name}** {row['title']}", row["fault"], row["expectation"]]
        cells += [_cell(figures.get(k)) for k in MAIN] + [_cell(other)]
        lines.append("| " + " | ".join(c.replace("\n", " ") for c in cells) + " |")
    runs = sorted({(r["at"][:10], r["redis"], r["python"], r["cpus"]) for r in data.values()})
    if runs:
        day, redis, python, cpus = runs[-1]
        lines.append("")
        lines.append(
            f"Last run {day}: redis-server {redis}, Python {python}, {cpus} CPUs "
            "(loopback, one machine)."
        )
    return "\n".join(lines)


def render(doc: str, data: dict[str, Any]) -> str:
    """``doc`` with the table between the markers replaced."""
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table(data)}\n{END}{tail}"


def main() -> int:
    data = load(FIGURES)
    if not data:
        print(f"no figures at {FIGURES}: run `make soak` or the fault tests first", file=sys.stderr)
        return 1
    doc = DOC.read_text()
    if START not in doc or END not in doc:
        print(f"{DOC} lacks the {START} / {END} markers", file=sys.stderr)
        return 1
    DOC.write_text(render(doc, data))
    COPY.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(data)} scenarios into {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
