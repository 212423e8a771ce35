"""`verify --app sheetnet`: the engine recalculates any workbook from the file alone.

Every constant cell becomes an input, every formula is parsed; a shared formula
becomes one fill (its master parsed once), so large files run on the engine's
compiled path. No lesson is needed: other people's teaching workbooks are read
exactly like sheetnet's own. A volatile function (RAND, NOW) keeps its cached
value, and so does a formula the engine cannot read, each counted in the notes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..engine import Role, Sheet, Workbook, evaluate
from ..engine.errors import ExcelError
from ..engine.evaluate import CycleError
from ..engine.parse import FormulaNotSupported, VolatileFunction, parse_formula_at
from ..engine.workbook import Fill
from ..reader import SavedSheet, SharedGroup
from ..reader.grid import CellGrid
from .apps import App, AppMissing
from .report import normalise


def _not_a_file(*_: object) -> Path:
    raise AppMissing("sheetnet's engine recalculates in place, not into a file")


ENGINE = App(
    name="sheetnet",
    title="sheetnet's engine",
    install="built in",
    binary=lambda: "sheetnet",
    recalculate=_not_a_file,
    known_difference=lambda *_, **__: None,
)
MAX_SPAN = 60_000_000  # cells in the sheets' used rectangles: the engine holds them as lists


def model_of(saved: dict[str, SavedSheet]) -> tuple[Workbook, list[str]]:
    """The workbook a file holds, as the engine's model, and notes on what was kept."""
    wb = Workbook()
    kept: Counter[str] = Counter()
    volatile: Counter[str] = Counter()
    for name, got in saved.items():
        sheet = wb.add_sheet(name)
        formulas, values = got.formulas, got.values
        groups: dict[SharedGroup, list[tuple[int, int]]] = {}
        for row, col, entry in formulas.cells():
            if type(entry) is SharedGroup:
                groups.setdefault(entry, []).append((row, col))
                continue
            try:
                if (row, col) in formulas.arrays:
                    raise FormulaNotSupported(
                        "an array (Ctrl+Shift+Enter) formula is not supported"
                    )
                sheet.set((row, col), parse_formula_at(entry, name, row, col), Role.FORMULA)
            except VolatileFunction as exc:
                volatile[exc.function or "?"] += 1
                _pin(sheet, row, col, values.at(row, col))
            except FormulaNotSupported as exc:
                kept[str(exc)] += 1
                _pin(sheet, row, col, values.at(row, col))
        for group, cells in groups.items():
            _fill_group(sheet, group, cells, kept, values)
        for row, col, value in values.cells():
            if formulas.at(row, col) is None:
                _pin(sheet, row, col, value)
    notes = [
        f"{n:,} cell(s) with {fn} keep their saved value (volatile: the value is the moment's)"
        for fn, n in sorted(volatile.items())
    ]
    notes += [
        f"{n:,} formula cell(s) keep their saved value: {why}" for why, n in sorted(kept.items())
    ]
    return wb, notes


def _fill_group(
    sheet: Sheet,
    group: SharedGroup,
    cells: list[tuple[int, int]],
    kept: Counter[str],
    values: CellGrid,
) -> None:
    """A shared formula's cells as fills: one per column, over its rows where they run
    without a gap (a group is usually one block), each member the master shifted."""
    try:
        master = parse_formula_at(group.text, sheet.name, group.row, group.col)
    except FormulaNotSupported as exc:
        kept[str(exc)] += len(cells)
        master = None
    by_col: dict[int, list[int]] = {}
    for row, col in cells:
        by_col.setdefault(col, []).append(row)
    for col, rows in by_col.items():
        rows.sort()
        start = prev = rows[0]
        for row in [*rows[1:], None]:
            if row is not None and row == prev + 1:
                prev = row
                continue
            if master is None:
                for r in range(start, prev + 1):
                    _pin(sheet, r, col, values.at(r, col))
            else:
                expr = master.shift(start - group.row, col - group.col)
                sheet.add_fill(Fill(col, start, prev, expr))
            if row is not None:
                start = prev = row


def _pin(sheet: Sheet, row: int, col: int, value: object) -> None:
    v = normalise(value)
    if v is None:
        return
    if not isinstance(v, float | str | bool | ExcelError):
        v = str(v)
    sheet.set((row, col), v, Role.INPUT)


def recalculate_here(saved: dict[str, SavedSheet]) -> tuple[dict[str, SavedSheet], list[str]]:
    """The engine's values of every cell, shaped as a file read back (for verify)."""
    wb, notes = model_of(saved)
    span = 0
    for sheet in wb.sheets.values():
        rows, cols = sheet.extent()
        span += rows * cols
        if span > MAX_SPAN:
            raise ValueError(
                f"the sheets span {span:,} cells (rows x columns, up to {sheet.name[:40]!r}); "
                f"the engine evaluates workbooks of at most {MAX_SPAN:,}"
            )
    try:
        results = evaluate(wb)
    except CycleError as exc:
        raise ValueError(str(exc)) from None
    out: dict[str, SavedSheet] = {}
    for name in saved:
        values = CellGrid()
        arr, width = results.array(name)
        for i, v in enumerate(arr):
            if v is not None:
                values.put(*divmod(i, width), v)
        out[name] = SavedSheet(name, saved[name].formulas, values)
    return out, notes
