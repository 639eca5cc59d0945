"""What a workload hands back: per-repeat figures, their summary, checks against the targets.

Figure names carry their unit as a suffix (``_per_s``, ``_ms``, ``_us``, ``_s``, ``_bytes``)
so the JSON needs no separate schema and the table can format them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.stats import summarize

Figures = dict[str, float | None]


@dataclass(slots=True)
class Check:
    """One target from issue 3: met, missed, or not decidable (``passed is None``)."""

    target: str
    passed: bool | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "passed": self.passed, "detail": self.detail}


@dataclass(slots=True)
class WorkloadResult:
    """One workload's outcome.  ``headline`` names the figures the stdout table shows."""

    name: str
    measures: str
    params: dict[str, Any] = field(default_factory=dict)
    repeats: list[Figures] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=dict)
    systems: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, dict[str, float | None]]:
        names: list[str] = []
        for rep in self.repeats:
            names.extend(k for k in rep if k not in names)
        return {k: summarize([rep.get(k) for rep in self.repeats]) for k in names}

    def median(self, name: str) -> float | None:
        return self.summary().get(name, {}).get("median")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measures": self.measures,
            "params": self.params,
            "repeats": self.repeats,
            "summary": self.summary(),
            "headline": self.headline,
            "checks": [c.to_json() for c in self.checks],
            "systems": self.systems,
            "samples": self.samples,
            "notes": self.notes,
            "error": self.error,
        }
