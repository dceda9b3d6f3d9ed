"""One benchmark figure (a value, its reference measured in the same run, and a target) and the printed table."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Check = Callable[[float, float | None], bool]


@dataclass(frozen=True)
class Target:
    """A target in words and as a check of ``(value, reference)``; ``check=None`` is informational."""

    text: str
    check: Check | None = None

    @classmethod
    def ratio_at_most(cls, limit: float) -> Target:
        return cls(f"≤ {limit:g}× ref", lambda v, r: r is not None and r > 0 and v / r <= limit)

    @classmethod
    def ratio_at_least(cls, limit: float) -> Target:
        return cls(f"≥ {limit:g}× ref", lambda v, r: r is not None and r > 0 and v / r >= limit)

    @classmethod
    def at_most(cls, limit: float, unit: str) -> Target:
        return cls(f"≤ {limit:g} {unit}", lambda v, r: v <= limit)

    @classmethod
    def ref_plus(cls, slack: float, unit: str) -> Target:
        return cls(f"≤ ref + {slack:g} {unit}", lambda v, r: r is not None and v <= r + slack)

    @classmethod
    def none(cls) -> Target:
        return cls("—")


@dataclass
class Figure:
    """A measured figure. ``value`` is ``None`` when it could not be measured (``note`` says why)."""

    key: str  # stable identifier (JSON, tests)
    name: str  # what is measured, in words
    unit: str
    value: float | None
    reference: float | None
    reference_name: str  # what the reference is
    target: Target
    note: str = ""
    extra_check: bool | None = None  # a second condition of the target (e.g. "0 bytes uploaded"), if any
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.reference is None or self.reference == 0:
            return None
        return self.value / self.reference

    @property
    def passed(self) -> bool | None:
        if self.target.check is None:
            return None
        if self.value is None:
            return False
        ok = self.target.check(self.value, self.reference)
        return ok and self.extra_check is not False

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "figure": self.name,
            "unit": self.unit,
            "value": self.value,
            "reference": self.reference,
            "reference_name": self.reference_name,
            "ratio": self.ratio,
            "target": self.target.text,
            "pass": self.passed,
            "note": self.note,
            "details": self.details,
        }


def number(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    magnitude = abs(value)
    text = f"{value:.0f}" if magnitude >= 100 else f"{value:.1f}" if magnitude >= 10 else f"{value:.2f}"
    return f"{text} {unit}".strip()


COLUMNS = ("figure", "value", "reference", "ratio", "target", "pass")


def rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for f in figures:
        ratio = f.ratio
        verdict = {True: "yes", False: "NO", None: "—"}[f.passed]
        reference = f"{number(f.reference, f.unit)} ({f.reference_name})" if f.reference is not None else "—"
        out.append((f.name, number(f.value, f.unit), reference, f"{ratio:.2f}×" if ratio is not None else "—",
                    f.target.text, verdict))
    return out


def table(figures: Sequence[Figure]) -> str:
    """A Markdown table (aligned, so it reads in a terminal too) and the notes under it."""
    body = rows(figures)
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(COLUMNS)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)) + " |"

    lines = [line(COLUMNS), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in body)]
    notes = [f"- {f.name}: {f.note}" for f in figures if f.note]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)
