"""Evaluate every formula of a workbook, in dependency order.

No dependency graph is built up front: cells are computed in the order they
were written (which for lessons is nearly always a valid order). When a formula
meets a cell that is not computed yet, that cell is computed first, on an
explicit stack (no recursion limit), and a cell met again while it waits on the
stack is a cycle, reported by name.
"""

from __future__ import annotations

from collections.abc import Callable

from . import address
from .errors import REF
from .semantics import Grid, Value
from .workbook import Role, Workbook

Key = tuple[str, int, int]


class CycleError(ValueError):
    """Formulas that depend on themselves; the message names the cells."""


class _Pending(Exception):
    def __init__(self, key: Key) -> None:
        self.key = key


def cell_name(key: Key) -> str:
    sheet, row, col = key
    return f"{address.quote_sheet(sheet)}!{address.render(row, col)}"


class Results:
    """Every cell's value after evaluation, looked up by sheet and address."""

    def __init__(self, values: dict[Key, Value]) -> None:
        self.values = values

    def __getitem__(self, key: Key) -> Value:
        return self.values.get(key)

    def at(self, sheet: str, a1: str) -> Value:
        a = address.parse(a1)
        return self.values.get((sheet, a.row, a.col))


class _Evaluator:
    def __init__(self, workbook: Workbook) -> None:
        self.sheets = workbook.sheets
        self.values: dict[Key, Value] = {}
        self.formulas: list[tuple[Key, object]] = []
        for name, sheet in workbook.sheets.items():
            for (row, col), cell in sheet.cells.items():
                if cell.role is Role.FORMULA:
                    self.formulas.append(((name, row, col), cell.content))
                else:
                    self.values[name, row, col] = cell.content  # type: ignore[assignment]

    # -- the Context protocol ---------------------------------------------------
    def cell(self, sheet: str, row: int, col: int) -> Value:
        key = (sheet, row, col)
        try:
            return self.values[key]
        except KeyError:
            pass
        owner = self.sheets.get(sheet)
        if owner is None:
            return REF
        if (row, col) in owner.cells:
            raise _Pending(key)
        return None

    def grid(self, sheet: str, row1: int, col1: int, row2: int, col2: int) -> Grid:
        cell = self.cell
        values = [cell(sheet, r, c) for r in range(row1, row2 + 1) for c in range(col1, col2 + 1)]
        return Grid(row2 - row1 + 1, col2 - col1 + 1, values)

    # -- driving ----------------------------------------------------------------
    def run(self, progress: Callable[[int, int], None] | None = None) -> Results:
        values, total = self.values, len(self.formulas)
        for done, (key, expr) in enumerate(self.formulas):
            if key not in values:
                try:
                    values[key] = expr.evaluate(self)  # type: ignore[attr-defined]
                except _Pending:
                    self._compute(key)
            if progress is not None and done % 100_000 == 0:
                progress(done, total)
        return Results(values)

    def _compute(self, start: Key) -> None:
        """Compute `start` and, first, whatever it waits for."""
        stack, waiting = [start], {start}
        while stack:
            key = stack[-1]
            if key in self.values:
                stack.pop()
                waiting.discard(key)
                continue
            sheet, row, col = key
            expr = self.sheets[sheet].cells[row, col].content
            try:
                value = expr.evaluate(self)  # type: ignore[union-attr]
            except _Pending as pending:
                if pending.key in waiting:
                    loop = [*stack[stack.index(pending.key) :], pending.key]
                    raise CycleError(
                        "circular reference: " + " -> ".join(cell_name(k) for k in loop)
                    ) from None
                stack.append(pending.key)
                waiting.add(pending.key)
                continue
            self.values[key] = value
            stack.pop()
            waiting.discard(key)


def evaluate(workbook: Workbook, progress: Callable[[int, int], None] | None = None) -> Results:
    """Compute every cell of `workbook` with Excel's semantics."""
    return _Evaluator(workbook).run(progress)
