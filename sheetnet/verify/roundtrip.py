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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..engine import Cell, Expr, Role, Sheet, Workbook, address, evaluate
from ..engine.errors import ExcelError
from ..engine.evaluate import Results, cell_name
from ..engine.expr import _scalar, cell_renderer
from ..engine.parse import FormulaNotSupported, bare, parse_formula_at
from ..engine.workbook import Fill
from ..lessons import get
from ..lessons.contract import DataRegion, Lesson
from ..lessons.kit import workbook
from ..metadata import (
    EXERCISES,
    ReadRegion,
    Recorded,
    data_digest,
    lesson_of,
    parse_custom_properties,
)
from ..reader import Package, SavedFormulas, SharedGroup
from ..reader.grid import CellGrid
from ..text import brief, exact
from .apps import APPS, App, AppMissing, installed
from .local import DRIFT, ResultsValues, SavedValues, drifted
from .readback import SavedSheet, read_workbook
from .report import Report, normalise


@dataclass
class Change:
    """An input the learner changed, or a formula the learner rewrote."""

    kind: str  # "input" or "formula"
    sheet: str
    cell: str
    before: object
    after: object
    original: object = field(default=None, repr=False)  # sheetnet's expression
    pinned: str | None = None  # why the saved value stands in for the formula
    equivalent: bool | None = None  # same value as sheetnet's formula, on the same inputs
    moved: list[str] = field(default_factory=list)  # first cells downstream that moved


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
    def wrong_formulas(self) -> list[Change]:
        """Rewritten formulas that are not sheetnet's in another form."""
        return [c for c in self.edited_formulas if not c.equivalent]

    @property
    def ok(self) -> bool:
        """Every value agrees, and every formula is sheetnet's (or equivalent to it)."""
        return self.report.ok and not self.wrong_formulas


def _same_input(before: object, after: object) -> bool:
    """LibreOffice saves numbers with 15 significant digits: that is not a change."""
    if isinstance(before, float) and isinstance(after, float):
        return math.isclose(before, after, rel_tol=1e-14, abs_tol=0.0)
    return before == after


def _as_constant(v: object) -> object:
    """A saved value as a cell constant (an empty cell stays empty: None)."""
    v = normalise(v)
    return v if v is None or isinstance(v, float | str | bool | ExcelError) else str(v)


def holds_its_cells(lesson: Lesson, params: Any, saved: dict[str, SavedSheet]) -> None:
    """Refuse, before anything is built, a file that does not hold the workbook its
    properties describe: each key result's sheet must be there, its cell a formula."""
    for key in lesson.key_results(params):
        sheet = saved.get(key.sheet)
        at = address.parse(key.a1)
        if sheet is None or sheet.formulas.at(at.row, at.col) is None:
            raise ValueError(
                f"the file does not hold the {lesson.name} workbook its properties describe "
                f"({key.sheet}!{key.a1} is missing); was it cut short, or changed by hand?"
            )


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
                v = normalise(sheet.values.at(region.top + i, region.left + j))
                if type(v) is not float or not math.isfinite(v):
                    a1 = address.render(region.top + i, region.left + j)
                    raise ValueError(
                        f"{region.sheet}!{a1} should hold a number of your data, "
                        f"not {str(v)[:40]!r}"
                    )
                row.append(v)
            out.append(row)
        return out

    return read


def _apply_file(wb: Workbook, saved: dict[str, SavedSheet]) -> list[Change]:
    """Put the file's inputs into the model, and the learner's rewritten formulas:
    each is parsed and evaluated in the model, so what follows it is recomputed from
    it. A formula the engine cannot read is pinned to its saved value."""
    changes: list[Change] = []
    for sheet in wb.sheets.values():
        got = saved.get(sheet.name)
        if got is None:
            raise ValueError(f"sheet {sheet.name!r} is missing from the workbook")
        for (row, col), cell in list(sheet.cells.items()):
            if cell.role is Role.INPUT:
                changes += _apply_input(sheet, got, row, col, cell)
        edits = [(row, col, mine) for row, col, mine in _rewritten(sheet, got)]
        for row, col, mine in edits:
            changes.append(_apply_edit(sheet, got, row, col, mine))
    return changes


def _apply_input(sheet: Sheet, got: SavedSheet, row: int, col: int, cell: Cell) -> list[Change]:
    """An input as the file holds it; one replaced by a formula (=0.01*5) is an input
    with that formula's value, computed by the engine."""
    a1 = address.render(row, col)
    file_formula = got.formulas.text_at(row, col)
    file_value = _as_constant(got.values.at(row, col))
    if file_formula is not None:
        try:
            expr = parse_formula_at(file_formula, sheet.name, row, col)
        except FormulaNotSupported:
            sheet.cells[row, col] = Cell(file_value, Role.INPUT)  # type: ignore[arg-type]
        else:
            sheet.cells[row, col] = Cell(expr, Role.FORMULA)
        return [Change("input", sheet.name, a1, cell.content, file_formula)]
    sheet.cells[row, col] = Cell(file_value, Role.INPUT)  # type: ignore[arg-type]
    if _same_input(cell.content, file_value):
        return []
    return [Change("input", sheet.name, a1, cell.content, file_value)]


def _rewritten(sheet: Sheet, got: SavedSheet) -> Iterator[tuple[int, int, str]]:
    """(row, col, sheetnet's formula) of each formula cell whose formula in the file
    is another. A member of a shared formula whose master lies in the same fill and
    holds sheetnet's formula there is that fill's cell, without rendering either (a
    file sheetnet wrote, or one Excel saved, holds its fills so)."""
    formulas = got.formulas
    for (row, col), cell in list(sheet.cells.items()):
        if cell.role is Role.FORMULA:
            mine = cell.content.formula(sheet.name)  # type: ignore[union-attr]
            theirs = formulas.text_at(row, col)
            if not same_formula(theirs, mine) and not _respelled(
                theirs,
                cell.content,
                sheet.name,
                row,
                col,  # type: ignore[arg-type]
            ):
                yield row, col, mine
    inside: dict[int, list[SharedGroup]] = {}
    for group in formulas.groups:
        f = sheet.covering(group.row, group.col)
        if f is not None:
            inside.setdefault(id(f), []).append(group)
    for f in list(sheet.fills):
        if _whole_fill(f, inside.get(id(f), ()), sheet.name):
            continue  # every cell of the fill is a member of a group holding its formula
        verdicts: dict[int, bool] = {}
        text_at = None
        for row, col in f.positions():
            entry = formulas.at(row, col)
            if type(entry) is SharedGroup:
                same = verdicts.get(id(entry))
                if same is None:
                    same = verdicts[id(entry)] = _same_fill(f, entry, sheet.name)
                if same:
                    continue
            if text_at is None:
                text_at = cell_renderer(f.expr, sheet.name)
            mine = text_at(row - f.first, col - f.col)
            theirs = formulas.text_at(row, col)
            if not same_formula(theirs, mine) and not _respelled(
                theirs, f.expr_at(row, col), sheet.name, row, col
            ):
                yield row, col, mine


def _respelled(text: str | None, mine: Expr, host: str, row: int, col: int) -> bool:
    """Whether an application saved sheetnet's formula in its own spelling: the same
    operations in the same order, brackets that change nothing left out (IronCalc
    writes ((a+b)+c)-d as a+b+c-d)."""
    if text is None:
        return False
    try:
        theirs = parse_formula_at(text, host, row, col)
    except FormulaNotSupported:
        return False
    return bare(theirs) == bare(mine)


def _whole_fill(f: Fill, groups: Iterable[SharedGroup], host: str) -> bool:
    """Whether shared groups that each fill their rectangle exactly, inside `f`, hold
    all of `f`'s cells (their counts add up to its size) and its formula."""
    groups = list(groups)
    return (
        bool(groups)
        and sum(g.count for g in groups) == f.size
        and all(
            g.solid
            and f.col <= g.first_col
            and g.last_col <= f.last_col
            and g.last_row <= f.last
            and _same_fill(f, g, host)
            for g in groups
        )
    )


def _same_fill(f: Fill, group: SharedGroup, host: str) -> bool:
    """Whether a shared group's master holds fill `f`'s formula at the master's cell."""
    if not (f.first <= group.row <= f.last and f.col <= group.col <= f.last_col):
        return False
    mine = f.expr_at(group.row, group.col).formula(host)
    return same_formula("=" + group.text, mine)


def _apply_edit(sheet: Sheet, got: SavedSheet, row: int, col: int, mine: str) -> Change:
    """The learner's cell in the model: their formula, or (a typed value, a formula the
    engine cannot evaluate) their saved value, pinned."""
    a1 = address.render(row, col)
    file_formula = got.formulas.text_at(row, col)
    file_value = _as_constant(got.values.at(row, col))
    original = sheet.cell(row, col).content  # type: ignore[union-attr]
    if file_formula is None:
        sheet.set((row, col), file_value, Role.INPUT)  # type: ignore[arg-type]
        return Change("formula", sheet.name, a1, mine, file_value, original, "a typed value")
    try:
        expr = parse_formula_at(file_formula, sheet.name, row, col)
    except FormulaNotSupported as exc:
        sheet.set((row, col), file_value, Role.INPUT)  # type: ignore[arg-type]
        return Change("formula", sheet.name, a1, mine, file_formula, original, f"pinned: {exc}")
    sheet.set((row, col), expr, Role.FORMULA)
    return Change("formula", sheet.name, a1, mine, file_formula, original)


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
    with Package(path) as package:  # checked and read through one open handle
        notes = package.notes
        properties = parse_custom_properties(package.read("docProps/custom.xml", 1 << 20))
        if properties.get(EXERCISES):
            raise ValueError(
                f"{path.name} is an exercise workbook: check it with `sheetnet grade {path}`"
            )
        saved = package.sheets()
    recorded = lesson_of(properties, region_reader(saved))
    lesson = get(recorded.lesson)
    holds_its_cells(lesson, recorded.params, saved)
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
    wb = workbook(lesson, recorded.params)
    baseline = evaluate(wb)  # the lesson as built, before the file's inputs go in
    changes = _data_changes(recorded, saved) + _apply_file(wb, saved)
    results = evaluate(wb) if changes else baseline  # nothing changed: the same values
    edits = [c for c in changes if c.kind == "formula"]
    if edits:
        _judge_edits(wb, edits, results)
    report = Report(
        f"{path.name}: your file vs Python ({recorded.lesson})",
        rtol=rtol,
        notes=notes,
        sides=("python", "your file"),
    )
    pinned = {(c.sheet, c.cell) for c in edits if c.pinned}
    contexts = (ResultsValues(results), SavedValues(saved))
    missing = stale = 0
    for sheet in wb.sheets.values():
        got = saved[sheet.name]
        values = got.values
        rep = report.sheet(sheet.name)
        arr, width = results.array(sheet.name)
        for row, col in _formula_positions(sheet):
            value = values.at(row, col)
            mine = arr[row * width + col]
            if type(value) is float and value == mine:  # the common case, at full speed
                rep.compared += 1
                continue
            a1 = address.render(row, col)
            if pinned and (sheet.name, a1) in pinned:
                continue
            missing += value is None
            before = len(rep.mismatches)
            report.compare(
                sheet.name,
                a1,
                mine,
                value,
                partial(_known, sheet, row, col, got.formulas, values, contexts),
            )
            if len(rep.mismatches) > before:
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
            f"{STALE}: inputs changed but its {stale:,} differing cells "
            "still hold the values from before; recalculate in your spreadsheet "
            "(LibreOffice: Data > Calculate > Recalculate Hard) or use --recalc"
        )
    keys = [
        KeyChange(k.label, k.sheet, k.a1, baseline.at(k.sheet, k.a1), results.at(k.sheet, k.a1))
        for k in lesson.key_results(recorded.params)
    ]
    return Comparison(recorded.lesson, report, changes, keys)


def _formula_positions(sheet: Sheet) -> Iterator[tuple[int, int]]:
    """(row, col) of every formula cell, without building any expression."""
    for (row, col), cell in sheet.cells.items():
        if cell.role is Role.FORMULA:
            yield row, col
    for f in sheet.fills:
        yield from f.positions()


def _judge_edits(wb: Workbook, edits: list[Change], results: Results) -> None:
    """For each rewritten formula: is it sheetnet's, in another form (the same value
    on the same inputs)? For one that is not, the first cells downstream that moved:
    the model is evaluated once more with sheetnet's formulas back in their place."""
    ctx = ResultsValues(results)
    for c in edits:
        if not isinstance(c.original, Expr):
            continue
        at = address.parse(c.cell)
        theirs = results[c.sheet, at.row, at.col]
        ours = _scalar(c.original.evaluate(ctx))
        c.equivalent = _close(ours, theirs)
    wrong = [c for c in edits if not c.equivalent]
    if not wrong:
        return
    learners = []
    for c in wrong:
        at = address.parse(c.cell)
        learners.append(wb[c.sheet].cell(at.row, at.col))
        wb[c.sheet].set((at.row, at.col), c.original, Role.FORMULA)  # type: ignore[arg-type]
    reference = evaluate(wb)
    moved = _moved_cells(results, reference, limit=5)
    for c, cell in zip(wrong, learners):
        c.moved = moved
        at = address.parse(c.cell)
        wb[c.sheet].set((at.row, at.col), cell.content, cell.role)  # type: ignore[union-attr]


def _close(a: object, b: object) -> bool:
    a, b = normalise(a), normalise(b)
    if type(a) is float and type(b) is float:
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return a == b


def _moved_cells(mine: Results, reference: Results, limit: int) -> list[str]:
    """The first formula cells (sheet by sheet, row by row) where the learner's
    formulas give another value than sheetnet's."""
    out: list[str] = []
    for key, value in reference.items():
        if not _close(value, mine[key]):
            out.append(cell_name(key))
            if len(out) >= limit:
                break
    return out


def _known(
    sheet: Sheet,
    row: int,
    col: int,
    formulas: SavedFormulas,
    values: CellGrid,
    contexts: tuple[ResultsValues, SavedValues],
    mine: object,
    got: object,
) -> str | None:
    """Why the file's value may stand beside Python's: a known difference of any
    application, or drift (the formula agrees on each side's own inputs)."""
    formula = formulas.text_at(row, col)
    cell = sheet.cell(row, col)
    for app in APPS.values():
        why = app.known_difference(mine, got, formula=formula, values=values)
        if why:
            return why
    if (
        cell is not None
        and isinstance(cell.content, Expr)
        and drifted(cell.content, mine, got, *contexts)
    ):
        return DRIFT
    return None


STALE = "the file's values are stale"


def render_comparison(result: Comparison) -> str:
    """A file not recalculated said first; then the report, what changed, how the
    lesson's results moved, and one verdict."""
    lines = []
    if any(note.startswith(STALE) for note in result.report.notes):
        lines.append(
            "NOT RECALCULATED: your inputs changed but the saved values did not; open and "
            "save it with recalculation on, or run compare with --recalc"
        )
    lines += [result.report.without_verdict(), render_changes(result.changes)]
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
    wrong = result.wrong_formulas
    if wrong:
        lines.append(
            f"  FAILED: {len(wrong)} formula(s) rewritten and not equivalent to sheetnet's: "
            + ", ".join(f"{c.sheet}!{c.cell}" for c in wrong[:5])
            + (" ..." if len(wrong) > 5 else "")
        )
    elif result.report.ok and result.edited_formulas:
        lines.append(
            f"  OK: {len(result.edited_formulas)} formula(s) rewritten, each equivalent to "
            "sheetnet's; every value agrees"
        )
    else:
        lines.append(result.report.verdict())
    return "\n".join(lines)


def _verdict(c: Change) -> str:
    if c.pinned:
        return f" [{c.pinned}]"
    if c.equivalent:
        return " [equivalent: the same value as sheetnet's formula]"
    if c.equivalent is False:
        moved = f"; first cells that moved: {', '.join(c.moved)}" if c.moved else ""
        return f" [NOT equivalent: another value than sheetnet's {exact(c.before)}{moved}]"
    return ""


def render_changes(changes: list[Change], limit: int = 30) -> str:
    if not changes:
        return "  no inputs changed, no formulas edited"
    lines = []
    for kind, title in (("input", "inputs changed"), ("formula", "formulas edited")):
        rows = [c for c in changes if c.kind == kind]
        if rows:
            lines.append(f"  {title}: {len(rows)}")
            for c in rows[:limit]:
                shown = f"{exact(c.before)} -> {exact(c.after)}"
                if kind == "formula":
                    shown = f"{exact(c.after)}{_verdict(c)}"
                lines.append(f"    {c.sheet}!{c.cell}: {shown}")
            if len(rows) > limit:
                lines.append(f"    ... and {len(rows) - limit} more")
    return "\n".join(lines)
