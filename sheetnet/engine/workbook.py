"""The workbook model: sheets of cells addressed as Excel addresses.

A cell is a label (text for the reader), an input (a constant the learner may
change), or a formula (an expression). Roles drive the look of the exported
file, and tell the round trip which cells a learner may edit.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from . import address
from .errors import ExcelError
from .expr import Expr, Range, Ref
from .semantics import stored


class Role(Enum):
    LABEL = "label"
    HEADER = "header"
    INPUT = "input"
    FORMULA = "formula"
    EXERCISE = "exercise"  # an empty cell the learner writes a formula in


Constant = float | str | bool | ExcelError | None  # None: an empty (exercise) cell


@dataclass(slots=True)
class Cell:
    content: Expr | Constant
    role: Role
    note: str | None = None
    number_format: str | None = None


@dataclass(frozen=True)
class Series:
    """A chart series: its name and its category and value ranges, as
    (sheet, first row, first col, last row, last col), zero-based."""

    name: str
    categories: tuple[str, int, int, int, int]
    values: tuple[str, int, int, int, int]
    marker: bool = False  # points marked, no line (a single point a chart should show)


@dataclass(frozen=True)
class Chart:
    """A native chart of lines placed on the sheet that owns it: x values as numbers (a
    scatter chart with lines, whose axis labels a few steps, not each), or categories."""

    title: str
    x_title: str
    y_title: str
    series: list[Series]
    log_y: bool = False
    anchor: tuple[int, int] | None = None  # (row, col) of its top left; default: beside the cells
    log_x: bool = False
    scatter: bool = True  # x values are numbers; False: categories, each labelled
    y_range: tuple[float, float] | None = None  # fixed y bounds (a share: 0 to 1)
    y_format: str | None = None  # the y axis's number format ("0%" for a share)
    x_range: tuple[float, float] | None = None  # fixed x bounds (a probability: 0 to 1)


@dataclass(frozen=True)
class Fill:
    """One formula filled over a rectangle, as Excel's fill-down and fill-right do:
    `expr` is what the top-left cell holds; the cell k rows down and m columns right
    holds expr.shift(k, m). Lessons that unroll thousands of rows store one Fill
    instead of thousands of expression trees."""

    col: int  # zero-based, the leftmost column
    first: int  # zero-based, inclusive
    last: int  # zero-based, inclusive
    expr: Expr
    note: str | None = None  # shown on the first cell
    number_format: str | None = None
    width: int = 1  # columns, from `col` rightwards

    @property
    def last_col(self) -> int:
        return self.col + self.width - 1

    @property
    def size(self) -> int:
        return (self.last - self.first + 1) * self.width

    def expr_at(self, row: int, col: int | None = None) -> Expr:
        dr, dc = row - self.first, 0 if col is None else col - self.col
        return self.expr if not dr and not dc else self.expr.shift(dr, dc)

    def cell(self, row: int, col: int | None = None) -> Cell:
        top_left = row == self.first and (col is None or col == self.col)
        note = self.note if top_left else None
        return Cell(self.expr_at(row, col), Role.FORMULA, note, self.number_format)

    def positions(self) -> Iterator[tuple[int, int]]:
        for row in range(self.first, self.last + 1):
            for col in range(self.col, self.col + self.width):
                yield row, col


class _ColumnFills:
    """One column's fills, sorted by first row, with their first rows beside them
    (bisect on plain ints: the layout of a big workbook looks these up ~10^6 times)."""

    __slots__ = ("firsts", "fills")

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.fills: list[Fill] = []

    def overlaps(self, first: int, last: int) -> bool:
        at = bisect.bisect_left(self.firsts, first)
        return (at < len(self.firsts) and self.firsts[at] <= last) or (
            at > 0 and self.fills[at - 1].last >= first
        )

    def insert(self, fill: Fill) -> None:
        at = bisect.bisect_left(self.firsts, fill.first)
        self.firsts.insert(at, fill.first)
        self.fills.insert(at, fill)

    def covering(self, row: int) -> Fill | None:
        at = bisect.bisect_right(self.firsts, row) - 1
        return self.fills[at] if at >= 0 and self.fills[at].last >= row else None

    def remove(self, fill: Fill) -> None:
        at = self.fills.index(fill)
        del self.firsts[at], self.fills[at]


class Sheet:
    """One worksheet: single cells by zero-based (row, col), fills, and layout hints."""

    def __init__(self, name: str) -> None:
        if not name or len(name) > 31 or any(ch in name for ch in "[]:*?/\\"):
            raise ValueError(f"not a valid sheet name: {name!r}")
        self.name = name
        self.cells: dict[tuple[int, int], Cell] = {}
        self._single_rows: dict[int, list[int]] = {}  # col -> rows of its single cells, sorted
        self.fills: list[Fill] = []
        self._by_col: dict[int, _ColumnFills] = {}
        self.col_widths: dict[int, float] = {}
        self.freeze: tuple[int, int] | None = None
        self.charts: list[Chart] = []
        # (first row, first col, last row, last col, diverging), zero-based: cells coloured by
        # value; diverging: blue below 0, red above, else white to red from the smallest
        self.color_scales: list[tuple[int, int, int, int, bool]] = []
        # printing: landscape pages, header rows repeated on each, breaks before rows
        self.landscape = False
        self.print_rows: tuple[int, int] | None = None
        self.page_breaks: list[int] = []
        # the ranges printed, (first row, first col, last row, last col) zero-based, each
        # on pages of its own (none: the whole sheet); at print_scale percent (None: the
        # print is fitted to one page wide); print_note heads each page (what is left out)
        self.print_areas: list[tuple[int, int, int, int]] = []
        self.print_scale: int | None = None
        self.print_note: str | None = None
        self.title_cells: set[tuple[int, int]] = set()  # shown large

    # -- building -----------------------------------------------------------
    def ref(self, a1: str) -> Ref:
        """A reference to a cell of this sheet: 'C4', '$C$4', 'C$4'."""
        a = address.parse(a1)
        return Ref(self.name, a.row, a.col, a.abs_row, a.abs_col)

    def range(self, a1: str) -> Range:
        """A range of this sheet: 'C3:C7'."""
        first, _, last = a1.partition(":")
        return Range(self.ref(first), self.ref(last or first))

    def set(
        self,
        where: str | tuple[int, int] | Ref,
        content: Expr | Constant | int,
        role: Role,
        note: str | None = None,
        number_format: str | None = None,
    ) -> Ref:
        row, col = self._position(where)
        if row >= address.MAX_ROWS or col >= address.MAX_COLS or row < 0 or col < 0:
            raise ValueError(f"cell outside Excel's grid: row {row + 1}, column {col + 1}")
        if isinstance(content, int | float) and not isinstance(content, bool):
            content = float(content)  # also numpy scalars: the engine works in plain floats
            if role is not Role.FORMULA:
                # .xlsx number cells hold 16 significant digits; compute with exactly
                # the number a spreadsheet application will read back.
                content = stored(content)
        if role is Role.FORMULA and not isinstance(content, Expr):
            raise TypeError("a formula cell needs an expression")
        if role is not Role.FORMULA and isinstance(content, Expr):
            raise TypeError("only formula cells hold expressions")
        if isinstance(content, float) and content - content != 0.0:
            raise ValueError("a cell cannot hold NaN or infinity")
        if self.fills:
            self._carve(row, col)
        if (row, col) not in self.cells:
            bisect.insort(self._single_rows.setdefault(col, []), row)
        self.cells[row, col] = Cell(content, role, note, number_format)
        return Ref(self.name, row, col)

    def _position(self, where: str | tuple[int, int] | Ref) -> tuple[int, int]:
        """(row, col) of an A1 address, a position, or a cell of this sheet a block named."""
        if isinstance(where, Ref):
            if where.sheet != self.name:
                raise ValueError(f"{where.sheet}'s cell written on {self.name}")
            return where.row, where.col
        return address.parse(where)[:2] if isinstance(where, str) else where

    def fill(
        self,
        col: str,
        first: int,
        last: int,
        expr: Expr,
        note: str | None = None,
        number_format: str | None = None,
    ) -> None:
        """Fill `expr`, written for row `first`, down column `col` to row `last`
        (1-based rows, as the sheet shows them)."""
        self.add_fill(Fill(address.col_number(col), first - 1, last - 1, expr, note, number_format))

    def add_fill(self, fill: Fill) -> None:
        """Add a fill (zero-based rows); it may not overlap cells already written."""
        c1, c2, first, last = fill.col, fill.last_col, fill.first, fill.last
        if not (0 <= first <= last < address.MAX_ROWS and 0 <= c1 <= c2 < address.MAX_COLS):
            raise ValueError(
                f"cannot fill rows {first + 1}..{last + 1}, columns {c1 + 1}..{c2 + 1}"
            )
        for c in range(c1, c2 + 1):
            column = self._by_col.get(c)
            rows = self._single_rows.get(c)
            if (column is not None and column.overlaps(first, last)) or (
                rows and (at := bisect.bisect_left(rows, first)) < len(rows) and rows[at] <= last
            ):
                where = f"{address.render(first, c1)}:{address.render(last, c2)}"
                raise ValueError(f"fill {where} overlaps cells already written")
        for c in range(c1, c2 + 1):
            column = self._by_col.get(c)
            if column is None:
                column = self._by_col[c] = _ColumnFills()
            column.insert(fill)
        self.fills.append(fill)

    def covering(self, row: int, col: int) -> Fill | None:
        """The fill that writes (row, col), zero-based, if any."""
        column = self._by_col.get(col)
        return None if column is None else column.covering(row)

    def _carve(self, row: int, col: int) -> None:
        """Writing one cell inside a fill replaces that cell only: split the fill
        into the columns left of it, right of it, and its own column above and below."""
        f = self.covering(row, col)
        if f is None:
            return
        fmt = f.number_format
        parts = []
        if col > f.col:
            parts.append(Fill(f.col, f.first, f.last, f.expr, f.note, fmt, col - f.col))
        if row > f.first:
            note = f.note if col == f.col else None
            parts.append(Fill(col, f.first, row - 1, f.expr_at(f.first, col), note, fmt))
        if row < f.last:
            parts.append(Fill(col, row + 1, f.last, f.expr_at(row + 1, col), None, fmt))
        if col < f.last_col:
            parts.append(
                Fill(
                    col + 1,
                    f.first,
                    f.last,
                    f.expr_at(f.first, col + 1),
                    None,
                    fmt,
                    f.last_col - col,
                )
            )
        self.fills.remove(f)
        for c in range(f.col, f.last_col + 1):
            self._by_col[c].remove(f)
        for part in parts:
            self.add_fill(part)

    def label(self, where: str | tuple[int, int], text: str, note: str | None = None) -> Ref:
        return self.set(where, text, Role.LABEL, note)

    def header(self, where: str | tuple[int, int], text: str, note: str | None = None) -> Ref:
        return self.set(where, text, Role.HEADER, note)

    def width(self, cols: str | int, width: float, last: str | int | None = None) -> None:
        """Set the width of a column, or of columns `cols` to `last` (letters or 0-based)."""
        first = address.col_number(cols) if isinstance(cols, str) else cols
        end = (
            first if last is None else (address.col_number(last) if isinstance(last, str) else last)
        )
        for c in range(first, end + 1):
            self.col_widths[c] = width

    def input(
        self,
        where: str | tuple[int, int] | Ref,
        value: Constant | int,
        note: str | None = None,
        number_format: str | None = None,
    ) -> Ref:
        return self.set(where, value, Role.INPUT, note, number_format)

    def formula(
        self,
        where: str | tuple[int, int] | Ref,
        expr: Expr,
        note: str | None = None,
        number_format: str | None = None,
    ) -> Ref:
        return self.set(where, expr, Role.FORMULA, note, number_format)

    # -- reading ------------------------------------------------------------
    def cell(self, row: int, col: int) -> Cell | None:
        """The cell at (row, col), zero-based, whether written alone or by a fill."""
        cell = self.cells.get((row, col))
        if cell is None:
            f = self.covering(row, col)
            return f.cell(row, col) if f else None
        return cell

    def __getitem__(self, a1: str) -> Cell:
        a = address.parse(a1)
        cell = self.cell(a.row, a.col)
        if cell is None:
            raise KeyError(f"{self.name}!{a1} is empty")
        return cell

    def formula_cells(self) -> Iterator[tuple[int, int, Cell]]:
        """Every formula cell, filled ones included (built one by one: for small work)."""
        for (row, col), cell in self.cells.items():
            if cell.role is Role.FORMULA:
                yield row, col, cell
        for f in self.fills:
            for row, col in f.positions():
                yield row, col, f.cell(row, col)

    def formula_count(self) -> int:
        singles = sum(1 for c in self.cells.values() if c.role is Role.FORMULA)
        return singles + sum(f.size for f in self.fills)

    def extent(self) -> tuple[int, int]:
        """Rows and columns in use (one past the last used)."""
        rows = [r for r, _ in self.cells] + [f.last for f in self.fills]
        cols = [c for _, c in self.cells] + [f.last_col for f in self.fills]
        return (max(rows) + 1, max(cols) + 1) if rows else (0, 0)


@dataclass
class Workbook:
    """Sheets in order, defined names, and document properties."""

    title: str = ""
    sheets: dict[str, Sheet] = field(default_factory=dict)
    names: dict[str, Ref | Range] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)

    def add_sheet(self, name: str) -> Sheet:
        if name.lower() in (s.lower() for s in self.sheets):
            raise ValueError(f"duplicate sheet name: {name!r}")
        sheet = Sheet(name)
        self.sheets[name] = sheet
        return sheet

    def move_sheet(self, name: str, after: str) -> None:
        """Put sheet `name` right after `after`: a sheet whose cells others read can be
        made first and still sit where a learner expects it."""
        moved = self.sheets.pop(name)
        order = list(self.sheets.items())
        at = [k for k, _ in order].index(after) + 1
        self.sheets = dict([*order[:at], (name, moved), *order[at:]])

    def define_name(self, name: str, target: Ref | Range) -> None:
        """A workbook-level defined name, e.g. 'learning_rate' -> basic!$F$1."""
        self.names[name] = target

    def __getitem__(self, name: str) -> Sheet:
        return self.sheets[name]

    def formula_count(self) -> int:
        return sum(s.formula_count() for s in self.sheets.values())
