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
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..engine import Cell, Role, Sheet, Workbook, address, evaluate
from ..engine.errors import ExcelError
from ..engine.expr import cell_renderer
from ..lessons import get
from ..metadata import data_digest, lesson_of, read_custom_properties
from ..safety import inspect_xlsx
from .libreoffice import known_difference, recalculate
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


@dataclass
class Comparison:
    lesson: str
    report: Report
    changes: list[Change] = field(default_factory=list)

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


def _apply_file(wb: Workbook, saved: dict[str, SavedSheet], recorded: dict) -> list[Change]:
    """Put the file's inputs into the model; pin rewritten formulas to their saved value."""
    changes: list[Change] = []
    data_cells_changed = False
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
                    if sheet.name == "data" and "data_sha256" in recorded:
                        data_cells_changed = True
                    else:
                        changes.append(Change("input", sheet.name, a1, cell.content, file_value))
                sheet.cells[row, col] = Cell(file_value, Role.INPUT)  # type: ignore[arg-type]
        edited = []
        for row, col, mine in _formulas(sheet):
            a1 = address.render(row, col)
            file_formula = got.formulas.get(a1)
            if file_formula != mine:
                file_value = _as_constant(got.values.get(a1))
                changes.append(Change("formula", sheet.name, a1, mine, file_formula or file_value))
                edited.append((row, col, file_value))
        for row, col, file_value in edited:  # pinned: later cells use the saved value
            sheet.set((row, col), file_value, Role.INPUT)  # type: ignore[arg-type]
    if "data_sha256" in recorded:
        data = wb["data"]
        xy = [(data[f"B{5 + i}"].content, data[f"C{5 + i}"].content)
              for i in range(recorded["data_rows"])]  # fmt: skip
        try:
            same = data_digest(xy) == recorded["data_sha256"]
        except (TypeError, ValueError):
            same = False
        if data_cells_changed and not same:
            last = 4 + recorded["data_rows"]
            changes.append(Change("input", "data", f"B5:C{last}", "your CSV data", "edited"))
    return changes


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
    path: str | os.PathLike[str], rtol: float = 1e-9, recalc: bool = False
) -> Comparison:
    """Compare the values saved in `path` with Python recomputing its lesson."""
    path = Path(path)
    notes = inspect_xlsx(path)
    saved = read_workbook(path)
    lesson, params, recorded = lesson_of(read_custom_properties(path))
    wb = get(lesson).build(params)
    if recalc:
        with tempfile.TemporaryDirectory(prefix="sheetnet-compare-") as tmp:
            values = read_workbook(recalculate(path, tmp))
        for name, sheet in saved.items():
            if name in values:
                sheet.values = values[name].values
        notes.append("values recalculated by LibreOffice before comparing")
    changes = _apply_file(wb, saved, recorded)
    results = evaluate(wb)
    report = Report(f"{path.name}: saved values vs Python ({lesson})", rtol=rtol, notes=notes)
    pinned = {(c.sheet, c.cell) for c in changes if c.kind == "formula"}
    missing = 0
    for sheet in wb.sheets.values():
        got = saved[sheet.name]
        report.sheet(sheet.name)
        for row, col, _cell in sheet.formula_cells():
            a1 = address.render(row, col)
            if (sheet.name, a1) in pinned:
                continue
            value = got.values.get(a1)
            missing += value is None
            report.compare(
                sheet.name,
                a1,
                results[sheet.name, row, col],
                value,
                partial(known_difference, formula=got.formulas.get(a1), values=got.values),
            )
    if missing:
        report.notes.append(
            f"{missing} formula cell(s) have no saved value: the file was saved by a tool "
            "that does not calculate; try --recalc"
        )
    return Comparison(lesson, report, changes)


def render_changes(changes: list[Change], limit: int = 30) -> str:
    if not changes:
        return "  no inputs changed, no formulas edited"
    lines = []
    for kind, title in (("input", "inputs changed"), ("formula", "formulas edited")):
        rows = [c for c in changes if c.kind == kind]
        if rows:
            lines.append(f"  {title}: {len(rows)}")
            for c in rows[:limit]:
                lines.append(f"    {c.sheet}!{c.cell}: {_text(c.before)} -> {_text(c.after)}")
            if len(rows) > limit:
                lines.append(f"    ... and {len(rows) - limit} more")
    return "\n".join(lines)


def _text(v: object) -> str:
    if isinstance(v, ExcelError):
        return v.code
    return repr(v) if not isinstance(v, str) or not v.startswith("=") else v
