"""Comparing cell values, and the per-sheet report every check prints."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine.errors import ExcelError
from ..text import exact, plain


@dataclass(frozen=True)
class Mismatch:
    sheet: str
    cell: str
    expected: object
    got: object
    reason: str = "value"


@dataclass
class SheetReport:
    sheet: str
    compared: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    mismatches: list[Mismatch] = field(default_factory=list)
    accepted: list[Mismatch] = field(default_factory=list)
    rounding: int = 0  # cells at rounding level that differ: judged by absolute difference
    rounding_abs: float = 0.0  # their largest absolute difference (not in max_rel)


def normalise(v: object) -> object:
    """One form for values from anywhere: numbers as float. Text stays text, even
    when it reads '#N/A': an error is an ExcelError, typed so by whoever read it."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return float(v)
    return v


def _why(expected: object, got: object) -> str:
    """What kind of difference: how far apart two numbers are, or what each side holds."""
    if type(expected) is float and type(got) is float:
        scale = max(abs(expected), abs(got))
        return f"{abs(expected - got) / scale:.1e} apart (relative)"
    if got is None:
        return "no value saved"
    if isinstance(expected, ExcelError) or isinstance(got, ExcelError):
        return "an error on one side only" if type(expected) is not type(got) else "other error"
    return f"a {type(expected).__name__} against a {type(got).__name__}"


@dataclass
class Report:
    """Cells compared per sheet; `ok` when no mismatch is left."""

    title: str
    sheets: dict[str, SheetReport] = field(default_factory=dict)
    rtol: float = 1e-12
    notes: list[str] = field(default_factory=list)
    sides: tuple[str, str] = ("expected", "got")  # what the two compared values are

    def sheet(self, name: str) -> SheetReport:
        if name not in self.sheets:
            self.sheets[name] = SheetReport(name)
        return self.sheets[name]

    def compare(
        self,
        sheet: str,
        cell: str,
        expected: object,
        got: object,
        tolerated: Callable[[object, object], str | None] | None = None,
        cause: Callable[[object, object], str | None] | None = None,
        rounding: Callable[[], float | None] | None = None,
    ) -> None:
        """Record one cell: numbers agree within rtol, relative. For two that do not,
        `rounding()` may give the cell's allowance when the cell is at rounding level
        (its expected value no larger than that): within the allowance, they agree,
        and their difference is kept out of max_rel, where it would mean nothing.
        Then `cause(expected, got)` may name why the cell is wrong (the mismatch's
        reason), and `tolerated(expected, got)` a known, accepted difference."""
        rep = self.sheet(sheet)
        rep.compared += 1
        exp_v, got_v = normalise(expected), normalise(got)
        why = None
        if type(exp_v) is float and type(got_v) is float:
            if exp_v == got_v:
                return
            diff = abs(exp_v - got_v)
            scale = max(abs(exp_v), abs(got_v))
            rel = diff / scale if scale else 0.0
            rep.max_abs = max(rep.max_abs, diff)
            limit = rounding() if rounding and rel > self.rtol else None
            if limit is not None and diff <= limit:
                rep.rounding += 1
                rep.rounding_abs = max(rep.rounding_abs, diff)
                return
            rep.max_rel = max(rep.max_rel, rel)
            if rel <= self.rtol:
                return
            if limit is not None:
                why = f"{diff:.1e} apart (absolute: more than {limit:.1e}, its rounding level)"
        elif exp_v == got_v or (exp_v in (None, "") and got_v in (None, "")):
            return
        reason = cause(exp_v, got_v) if cause else None
        if reason:
            rep.mismatches.append(Mismatch(sheet, cell, exp_v, got_v, reason))
            return
        reason = tolerated(exp_v, got_v) if tolerated else None
        if reason:
            rep.accepted.append(Mismatch(sheet, cell, exp_v, got_v, reason))
        else:
            why = why or _why(exp_v, got_v)
            rep.mismatches.append(Mismatch(sheet, cell, exp_v, got_v, why))

    def add_problem(
        self, sheet: str, cell: str, expected: object, got: object, reason: str
    ) -> None:
        self.sheet(sheet).mismatches.append(Mismatch(sheet, cell, expected, got, reason))

    @property
    def ok(self) -> bool:
        return all(not s.mismatches for s in self.sheets.values()) and bool(self.sheets)

    def without_verdict(self) -> str:
        return self.render().rsplit("\n", 1)[0]

    def mismatches(self) -> list[Mismatch]:
        return [m for s in self.sheets.values() for m in s.mismatches]

    def render(self, limit: int = 20) -> str:
        lines = [self.title]
        width = max([len(s) for s in self.sheets] + [5])
        lines.append(
            f"  {'sheet':<{width}}  {'cells':>7}  {'max abs diff':>12}  "
            f"{'max rel diff':>12}   {'mismatches':>10}"
        )
        for s in self.sheets.values():
            mark = "*" if s.rounding else " "
            lines.append(
                f"  {s.sheet:<{width}}  {s.compared:>7}  {s.max_abs:>12.3g}  "
                f"{s.max_rel:>12.3g}{mark}  {len(s.mismatches):>10}"
            )
        lines.extend(self._rounding_notes())
        reasons = Counter(m.reason for s in self.sheets.values() for m in s.accepted)
        for reason, count in reasons.items():
            lines.append(f"  {count:,} cell(s) differ only as known: {reason}")
        bad = self.mismatches()
        if bad:
            exp_name, got_name = self.sides
            lines.append(f"  {'cell':<{width + 8}}  {exp_name:>24}  {got_name:>24}  why")
            for m in bad[:limit]:
                lines.append(
                    f"  {m.sheet + '!' + m.cell:<{width + 8}}  {exact(m.expected):>24}  "
                    f"{exact(m.got):>24}  {m.reason}"
                )
            if len(bad) > limit:
                lines.append(f"  ... and {len(bad) - limit} more")
        lines.extend(f"  {note}" for note in self.notes)
        lines.append(self.verdict())
        return "\n".join(lines)

    def _rounding_notes(self) -> list[str]:
        """The footnote of the sheets marked *: their cells at rounding level."""
        marked = [s for s in self.sheets.values() if s.rounding]
        if not marked:
            return []
        lines = [
            f"  * {s.sheet}: {s.rounding:,} cell(s) at rounding level, at most "
            f"{s.rounding_abs:.3g} apart (absolute)"
            for s in marked
        ]
        lines += [
            "    at rounding level: a value no larger than the change that moving its inputs",
            f"    by the tolerance ({self.rtol:.0e}) could make in it, as a relative difference of",
            "    two nearly equal numbers is. Such digits are rounding noise: these cells are",
            "    judged by their absolute difference and left out of max rel diff",
        ]
        return lines

    def verdict(self) -> str:
        if not any(s.compared for s in self.sheets.values()):
            return "  FAILED: no formula cells to compare (is this a workbook of formulas?)"
        return "  OK: all cells agree" if self.ok else "  FAILED: cells disagree"

    def to_json(self) -> str:
        return json.dumps(
            {
                "title": self.title,
                "ok": self.ok,
                "rtol": json_number(self.rtol),
                "notes": self.notes,
                "sheets": [
                    {
                        "sheet": s.sheet,
                        "compared": s.compared,
                        "max_abs": json_number(s.max_abs),
                        "max_rel": json_number(s.max_rel),
                        "mismatches": [_mismatch_json(m) for m in s.mismatches],
                        "accepted": [_mismatch_json(m) for m in s.accepted],
                        "rounding_level": s.rounding,
                        "rounding_max_abs": json_number(s.rounding_abs),
                    }
                    for s in self.sheets.values()
                ],
            },
            indent=2,
            allow_nan=False,  # valid JSON: a non-finite number is written as text
        )


def json_number(x: float) -> float | str:
    """A number for JSON: 'inf', '-inf' or 'nan' as text (JSON has no Infinity)."""
    return x if math.isfinite(x) else str(x)


def _mismatch_json(m: Mismatch) -> dict[str, object]:
    return {
        "cell": f"{m.sheet}!{m.cell}",
        "expected": plain(m.expected),
        "got": plain(m.got),
        "reason": m.reason,
    }
