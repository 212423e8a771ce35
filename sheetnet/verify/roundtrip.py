"""`compare`: a workbook a learner edited and saved, against Python recomputing it.

The workbook says which lesson it is and how it was built (document properties).
sheetnet rebuilds that lesson, takes the learner's input cells from the file,
recomputes every cell in Python and compares with the values the spreadsheet
application saved. A formula the learner rewrote is reported as an edit, and its
saved value is used downstream, so one edit does not drown the report in
mismatches.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..engine import Cell, Expr, Role, Sheet, Workbook, address, evaluate
from ..engine.errors import ExcelError
from ..engine.expr import cell_renderer
from ..lessons import get
from ..lessons.contract import DataRegion
from ..metadata import ReadRegion, Recorded, data_digest, lesson_of, read_custom_properties
from ..safety import inspect_xlsx
from ..text import brief, exact
from .apps import APPS, App, AppMissing, installed
from .local import DRIFT, ResultsValues, SavedValues, drifted
from .readback import SavedSheet, read_workbook
from .report import Report, normalise


@dataclass(frozen=True)
class Change:
    """An input the learner changed, or a formula the learner rewrote."""

    kind: str  # "input" or "formula"
    sheet: str
    cell: str
    before: object
    after: object


@dataclass(frozen=True)
class KeyChange:
    """A key result of the lesson as built, and after the learner's changes."""

    label: str
    sheet: str
    cell: str
    before: object
    after: object


@dataclass
class Comparison:
    lesson: str
    report: Report
    changes: list[Change] = field(default_factory=list)
    key_results: list[KeyChange] = field(default_factory=list)

    @property
    def edited_formulas(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "formula"]

    @property
    def ok(self) -> bool:
        """Every value agrees and every formula is the one sheetnet wrote."""
        return self.report.ok and not self.edited_formulas


def _same_input(before: object, after: object) -> bool:
    """LibreOffice saves numbers with 15 significant digits: that is not a change."""
    if isinstance(before, float) and isinstance(after, float):
        return math.isclose(before, after, rel_tol=1e-14, abs_tol=0.0)
    return before == after


def _as_constant(v: object) -> object:
    """A saved value as a cell constant (an empty cell stays empty: None)."""
    v = normalise(v)
    return v if v is None or isinstance(v, float | str | bool | ExcelError) else str(v)


def region_reader(saved: dict[str, SavedSheet]) -> ReadRegion:
    """Reads a lesson's data region (rows x cols of numbers) from the saved cells."""

    def read(region: DataRegion, rows: int, cols: int) -> list[list[Any]]:
        sheet = saved.get(region.sheet)
        if sheet is None:
            raise ValueError(f"sheet {region.sheet!r} is missing from the workbook")
        if rows * cols > len(sheet.values):
            raise ValueError(
                f"the data region claims {rows:,} x {cols:,} cells; "
                f"sheet {region.sheet!r} holds fewer"
            )
        out = []
        for i in range(rows):
            row = []
            for j in range(cols):
                a1 = address.render(region.top + i, region.left + j)
                v = normalise(sheet.values.get(a1))
                if type(v) is not float:
                    raise ValueError(
                        f"{region.sheet}!{a1} should hold a number of your data, "
                        f"not {str(v)[:40]!r}"
                    )
                row.append(v)
            out.append(row)
        return out

    return read


def _apply_file(wb: Workbook, saved: dict[str, SavedSheet]) -> list[Change]:
    """Put the file's inputs into the model; pin rewritten formulas to their saved value."""
    changes: list[Change] = []
    for sheet in wb.sheets.values():
        got = saved.get(sheet.name)
        if got is None:
            raise ValueError(f"sheet {sheet.name!r} is missing from the workbook")
        for (row, col), cell in list(sheet.cells.items()):
            a1 = address.render(row, col)
            file_formula = got.formulas.get(a1)
            file_value = _as_constant(got.values.get(a1))
            if cell.role is Role.INPUT:
                if file_formula is not None:
                    changes.append(Change("formula", sheet.name, a1, cell.content, file_formula))
                elif not _same_input(cell.content, file_value):
                    changes.append(Change("input", sheet.name, a1, cell.content, file_value))
                sheet.cells[row, col] = Cell(file_value, Role.INPUT)  # type: ignore[arg-type]
        edited = []
        for row, col, mine in _formulas(sheet):
            a1 = address.render(row, col)
            file_formula = got.formulas.get(a1)
            if not same_formula(file_formula, mine):
                file_value = _as_constant(got.values.get(a1))
                changes.append(Change("formula", sheet.name, a1, mine, file_formula or file_value))
                edited.append((row, col, file_value))
        for row, col, file_value in edited:  # pinned: later cells use the saved value
            sheet.set((row, col), file_value, Role.INPUT)  # type: ignore[arg-type]
    return changes


def _data_changes(recorded: Recorded, saved: dict[str, SavedSheet]) -> list[Change]:
    """A data region whose cells no longer match the digest recorded at build time."""
    read = region_reader(saved)
    changes = []
    for name, (region, rows, cols) in recorded.regions.items():
        if data_digest(read(region, rows, cols)) != recorded.digests[name]:
            first = address.render(region.top, region.left)
            last = address.render(region.top + rows - 1, region.left + cols - 1)
            changes.append(Change("input", region.sheet, f"{first}:{last}", "your data", "edited"))
    return changes


_NUMBER = re.compile(r"(?<![A-Za-z$0-9.])([0-9]+\.?[0-9]*(?:[Ee][+-]?[0-9]+)?)")


_ONE_CELL = re.compile(r"(\$?[A-Z]{1,3}\$?[0-9]+):\1(?![0-9])")


def same_formula(saved: str | None, mine: str) -> bool:
    """Whether a formula an application saved is the one sheetnet wrote: the same
    text, up to spaces, letter case, how a number is spelled (Gnumeric writes
    0.01 as 0.0099999999999999999998, the same double) and one-cell ranges (Gnumeric
    writes A1:A1 as A1)."""
    if saved is None:
        return False
    if saved == mine:
        return True
    a = _NUMBER.split(_ONE_CELL.sub(r"\1", saved.replace(" ", "").upper()))
    b = _NUMBER.split(_ONE_CELL.sub(r"\1", mine.replace(" ", "").upper()))
    if len(a) != len(b):
        return False
    for k, (x, y) in enumerate(zip(a, b)):
        if k % 2 and float(x) != float(y):
            return False
        if not k % 2 and x != y:
            return False
    return True


def _formulas(sheet: Sheet) -> Iterator[tuple[int, int, str]]:
    """(row, col, formula text) of every formula cell, fills rendered row by row."""
    for (row, col), cell in sheet.cells.items():
        if cell.role is Role.FORMULA:
            yield row, col, cell.content.formula(sheet.name)  # type: ignore[union-attr]
    for f in sheet.fills:
        text_at = cell_renderer(f.expr, sheet.name)
        for row, col in f.positions():
            yield row, col, text_at(row - f.first, col - f.col)


def compare_file(
    path: str | os.PathLike[str],
    rtol: float = 1e-9,
    recalc: bool = False,
    app: App | None = None,
) -> Comparison:
    """Compare the values saved in `path` with Python recomputing its lesson.

    With `recalc`, `app` (default: the first installed) recalculates the file first."""
    path = Path(path)
    notes = inspect_xlsx(path)
    saved = read_workbook(path)
    recorded = lesson_of(read_custom_properties(path), region_reader(saved))
    lesson = get(recorded.lesson)
    if recalc:
        apps = [app] if app is not None else installed()
        if not apps:
            raise AppMissing("--recalc needs LibreOffice or Gnumeric; neither is installed")
        checker = apps[0]
        with tempfile.TemporaryDirectory(prefix="sheetnet-compare-") as tmp:
            values = read_workbook(checker.recalculate(path, tmp))
        for name, sheet in saved.items():
            if name in values:
                sheet.values = values[name].values
        notes.append(f"values recalculated by {checker.title} before comparing")
    wb = lesson.workbook(recorded.params)
    baseline = evaluate(wb)  # the lesson as built, before the file's inputs go in
    changes = _data_changes(recorded, saved) + _apply_file(wb, saved)
    results = evaluate(wb)
    report = Report(
        f"{path.name}: your file vs Python ({recorded.lesson})",
        rtol=rtol,
        notes=notes,
        sides=("python", "your file"),
    )
    pinned = {(c.sheet, c.cell) for c in changes if c.kind == "formula"}
    contexts = (ResultsValues(results), SavedValues(saved))
    missing = stale = 0
    for sheet in wb.sheets.values():
        got = saved[sheet.name]
        report.sheet(sheet.name)
        for row, col, _cell in sheet.formula_cells():
            a1 = address.render(row, col)
            if (sheet.name, a1) in pinned:
                continue
            value = got.values.get(a1)
            missing += value is None
            mine = results[sheet.name, row, col]
            before = len(report.sheet(sheet.name).mismatches)
            report.compare(
                sheet.name,
                a1,
                mine,
                value,
                partial(_known, _cell, got.formulas.get(a1), got.values, contexts),
            )
            if len(report.sheet(sheet.name).mismatches) > before:
                old = normalise(baseline[sheet.name, row, col])
                stale += old == normalise(value) or (
                    isinstance(old, float)
                    and isinstance(value, float)
                    and math.isclose(old, value, rel_tol=rtol)
                )
    if missing:
        report.notes.append(
            f"{missing} formula cell(s) have no saved value: the file was saved by a tool "
            "that does not calculate; try --recalc"
        )
    mismatched = len(report.mismatches())
    if mismatched and stale == mismatched and any(c.kind == "input" for c in changes):
        report.notes.append(
            f"the file's values are stale: inputs changed but its {stale:,} differing cells "
            "still hold the values from before; recalculate in your spreadsheet "
            "(LibreOffice: Data > Calculate > Recalculate Hard) or use --recalc"
        )
    keys = [
        KeyChange(k.label, k.sheet, k.a1, baseline.at(k.sheet, k.a1), results.at(k.sheet, k.a1))
        for k in lesson.key_results(recorded.params)
    ]
    return Comparison(recorded.lesson, report, changes, keys)


def _known(
    cell: Cell,
    formula: str | None,
    values: dict,
    contexts: tuple[ResultsValues, SavedValues],
    mine: object,
    got: object,
) -> str | None:
    """Why the file's value may stand beside Python's: a known difference of any
    application, or drift (the formula agrees on each side's own inputs)."""
    for app in APPS.values():
        why = app.known_difference(mine, got, formula=formula, values=values)
        if why:
            return why
    if isinstance(cell.content, Expr) and drifted(cell.content, mine, got, *contexts):
        return DRIFT
    return None


def render_comparison(result: Comparison) -> str:
    """The report, what changed, how the lesson's results moved, and one verdict."""
    lines = [result.report.without_verdict(), render_changes(result.changes)]
    moved = [k for k in result.key_results if k.before != k.after]
    if result.key_results:
        lines.append(
            "  results: as built -> with your changes" if moved else "  results (unchanged):"
        )
        for k in result.key_results:
            shown = (
                f"{brief(k.before):>12} -> {brief(k.after):<12}"
                if moved
                else (f"{brief(k.after):>12}")
            )
            lines.append(f"    {k.label:<32} {shown} ({k.sheet}!{k.cell})")
    if result.edited_formulas:
        lines.append(
            f"  FAILED: {len(result.edited_formulas)} formula(s) rewritten: the file "
            "is no longer the lesson (their saved values were used downstream)"
        )
    else:
        lines.append(result.report.verdict())
    return "\n".join(lines)


def render_changes(changes: list[Change], limit: int = 30) -> str:
    if not changes:
        return "  no inputs changed, no formulas edited"
    lines = []
    for kind, title in (("input", "inputs changed"), ("formula", "formulas edited")):
        rows = [c for c in changes if c.kind == kind]
        if rows:
            lines.append(f"  {title}: {len(rows)}")
            for c in rows[:limit]:
                lines.append(f"    {c.sheet}!{c.cell}: {exact(c.before)} -> {exact(c.after)}")
            if len(rows) > limit:
                lines.append(f"    ... and {len(rows) - limit} more")
    return "\n".join(lines)
