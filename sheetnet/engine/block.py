"""Blocks: a rectangle of cells addressed by (i, j), so matrix math reads like math.

A lesson says ``W_new.fill(lambda k, j: W[k, j] - lr * (sumproduct(delta.col(k),
X.col(j)) / B))`` and never computes an address. A block decides how its formulas
are stored: a column whose cells are its first cell filled down becomes one Fill
(as Excel's fill-down), anything else one formula per cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import address
from .expr import Expr, Range, Ref
from .workbook import Constant, Fill, Role, Sheet


class Block:
    """Rows x cols cells of `sheet` from (top, left), zero-based.

    `fixed_rows` / `fixed_cols` make the references it hands out absolute ($) in
    that direction, as a formula that is filled elsewhere needs (see `fixed`).
    """

    def __init__(
        self,
        sheet: Sheet,
        top: int,
        left: int,
        rows: int,
        cols: int,
        fixed_rows: bool = False,
        fixed_cols: bool = False,
    ) -> None:
        if rows < 1 or cols < 1:
            raise ValueError(f"a block needs at least one row and column, not {rows}x{cols}")
        if top < 0 or left < 0 or top + rows > address.MAX_ROWS or left + cols > address.MAX_COLS:
            raise ValueError(
                f"block of {rows}x{cols} at row {top + 1}, column {left + 1} "
                "does not fit in Excel's grid"
            )
        self.sheet, self.top, self.left, self.rows, self.cols = sheet, top, left, rows, cols
        self.fixed_rows, self.fixed_cols = fixed_rows, fixed_cols

    @classmethod
    def at(cls, sheet: Sheet, a1: str, rows: int, cols: int) -> Block:
        """The block whose top-left cell is `a1`: ``Block.at(s, 'C7', 16, 64)``."""
        a = address.parse(a1)
        return cls(sheet, a.row, a.col, rows, cols)

    # -- references -------------------------------------------------------------
    def fixed(self) -> Block:
        """A view of this block whose references are absolute ($A$1)."""
        return self._view(True, True)

    def fixed_row(self) -> Block:
        """A view whose references keep their rows (A$1), as a formula filled down needs."""
        return self._view(True, False)

    def fixed_col(self) -> Block:
        """A view whose references keep their columns ($A1), as a formula filled across needs."""
        return self._view(False, True)

    def relative(self) -> Block:
        """A view whose references are relative (A1), whatever this view's are."""
        return self._view(False, False)

    def part(self, i: int, j: int, rows: int, cols: int) -> Block:
        """The rows x cols block from (i, j) inside this one, with this view's $ marks."""
        if i < 0 or j < 0 or i + rows > self.rows or j + cols > self.cols:
            raise IndexError(f"{rows}x{cols} at ({i}, {j}) leaves a {self.rows}x{self.cols} block")
        return Block(self.sheet, self.top + i, self.left + j, rows, cols,
                     self.fixed_rows, self.fixed_cols)  # fmt: skip

    def _view(self, fixed_rows: bool, fixed_cols: bool) -> Block:
        return Block(self.sheet, self.top, self.left, self.rows, self.cols, fixed_rows, fixed_cols)

    def _ref(self, i: int, j: int) -> Ref:
        return Ref(self.sheet.name, self.top + i, self.left + j, self.fixed_rows, self.fixed_cols)

    def __getitem__(self, ij: tuple[int, int]) -> Ref:
        i, j = ij
        if not (0 <= i < self.rows and 0 <= j < self.cols):
            raise IndexError(f"({i}, {j}) is outside a {self.rows}x{self.cols} block")
        return self._ref(i, j)

    def row(self, i: int) -> Range:
        """Row i as a range (1 x cols)."""
        return Range(self[i, 0], self[i, self.cols - 1])

    def col(self, j: int) -> Range:
        """Column j as a range (rows x 1)."""
        return Range(self[0, j], self[self.rows - 1, j])

    @property
    def range(self) -> Range:
        return Range(self[0, 0], self[self.rows - 1, self.cols - 1])

    def a1(self) -> str:
        """The block's address as text, e.g. 'C7:BN22'."""
        r1, c1, r2, c2 = self.range.bounds()
        return f"{address.render(r1, c1)}:{address.render(r2, c2)}"

    def below(self, gap: int, rows: int, cols: int | None = None, left: int | None = None) -> Block:
        """A new block `gap` rows under this one (same left edge unless given)."""
        return Block(
            self.sheet,
            self.top + self.rows + gap,
            self.left if left is None else left,
            rows,
            self.cols if cols is None else cols,
        )

    def right(self, gap: int, cols: int, rows: int | None = None) -> Block:
        """A new block `gap` columns right of this one, on the same rows."""
        return Block(
            self.sheet,
            self.top,
            self.left + self.cols + gap,
            self.rows if rows is None else rows,
            cols,
        )

    # -- writing ----------------------------------------------------------------
    def inputs(
        self,
        values: Sequence[Sequence[Constant | int]],
        note: str | None = None,
        number_format: str | None = None,
    ) -> None:
        """Input cells from a rows x cols array (lists, tuples or a numpy array)."""
        if len(values) != self.rows or any(len(r) != self.cols for r in values):
            raise ValueError(f"inputs for a {self.rows}x{self.cols} block have another shape")
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                self.sheet.set(
                    (self.top + i, self.left + j),
                    v,
                    Role.INPUT,
                    note if i == j == 0 else None,
                    number_format,
                )

    def fill(
        self,
        formula: Callable[[int, int], Expr],
        note: str | None = None,
        number_format: str | None = None,
    ) -> None:
        """Formula cells: cell (i, j) holds formula(i, j).

        Stored the way Excel users fill: the whole block as one fill when every cell
        is the top-left one filled down and right; else a fill per column (down) or
        per row (across) where those hold, checked for every cell; else one formula
        per cell. The choice changes storage and speed only, never a cell's formula.
        """
        cells = [[formula(i, j) for j in range(self.cols)] for i in range(self.rows)]
        rows, cols = range(self.rows), range(self.cols)
        base = cells[0][0]
        if all(cells[i][j].matches(base, i, j) for i in rows for j in cols):
            self._add(0, 0, self.rows, self.cols, base, note, number_format)
            return
        if all(cells[i][j].matches(cells[0][j], i) for i in rows[1:] for j in cols):
            for j in cols:
                self._add(0, j, self.rows, 1, cells[0][j], note if j == 0 else None, number_format)
            return
        across = all(cells[i][j].matches(cells[i][0], 0, j) for i in rows for j in cols[1:])
        for i in rows:
            if across:
                self._add(i, 0, 1, self.cols, cells[i][0], note if i == 0 else None, number_format)
                continue
            for j in cols:
                self._add(i, j, 1, 1, cells[i][j], note if i == j == 0 else None, number_format)

    def fill_like(
        self, base: Expr, note: str | None = None, number_format: str | None = None
    ) -> None:
        """The whole block as `base` (the top-left cell's formula) filled down and right,
        as a spreadsheet user drags one formula: cell (i, j) is ``base.shift(i, j)`` by
        definition, so no cell needs building or checking."""
        self._add(0, 0, self.rows, self.cols, base, note, number_format)

    def fill_columns(
        self,
        top: Callable[[int], Expr],
        note: str | None = None,
        number_format: str | None = None,
    ) -> None:
        """Column j as its top cell's formula `top(j)` filled down (one fill per column)."""
        for j in range(self.cols):
            self._add(0, j, self.rows, 1, top(j), note if j == 0 else None, number_format)

    def fill_rows(
        self,
        left: Callable[[int], Expr],
        note: str | None = None,
        number_format: str | None = None,
    ) -> None:
        """Row i as its first cell's formula `left(i)` filled right (one fill per row)."""
        for i in range(self.rows):
            self._add(i, 0, 1, self.cols, left(i), note if i == 0 else None, number_format)

    def _add(
        self,
        i: int,
        j: int,
        rows: int,
        cols: int,
        expr: Expr,
        note: str | None,
        number_format: str | None,
    ) -> None:
        top, left = self.top + i, self.left + j
        self.sheet.add_fill(Fill(left, top, top + rows - 1, expr, note, number_format, cols))

    def headers(
        self, texts: Sequence[str], row_above: int = 1, notes: Sequence[str | None] | None = None
    ) -> None:
        """Column headers `row_above` rows above the block."""
        if len(texts) != self.cols:
            raise ValueError(f"{len(texts)} headers for {self.cols} columns")
        for j, text in enumerate(texts):
            self.sheet.header(
                (self.top - row_above, self.left + j), text, notes[j] if notes else None
            )

    def row_labels(self, texts: Sequence[str], col_left: int = 1) -> None:
        """Row labels `col_left` columns left of the block."""
        if len(texts) != self.rows:
            raise ValueError(f"{len(texts)} labels for {self.rows} rows")
        for i, text in enumerate(texts):
            self.sheet.header((self.top + i, self.left - col_left), text)
