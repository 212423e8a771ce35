"""The workbook model: sheets of cells addressed as Excel addresses.

A cell is a label (text for the reader), an input (a constant the learner may
change), or a formula (an expression). Roles drive the look of the exported
file, and tell the round trip which cells a learner may edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from . import address
from .errors import ExcelError
from .expr import Expr, Range, Ref


class Role(Enum):
    LABEL = "label"
    HEADER = "header"
    INPUT = "input"
    FORMULA = "formula"


Constant = float | str | bool | ExcelError


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


@dataclass(frozen=True)
class Chart:
    """A native line chart placed on the sheet that owns it."""

    title: str
    x_title: str
    y_title: str
    series: list[Series]
    log_y: bool = False


class Sheet:
    """One worksheet: cells by zero-based (row, col), plus layout hints."""

    def __init__(self, name: str) -> None:
        if not name or len(name) > 31 or any(ch in name for ch in "[]:*?/\\"):
            raise ValueError(f"not a valid sheet name: {name!r}")
        self.name = name
        self.cells: dict[tuple[int, int], Cell] = {}
        self.col_widths: dict[int, float] = {}
        self.freeze: tuple[int, int] | None = None
        self.charts: list[Chart] = []

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
        where: str | tuple[int, int],
        content: Expr | Constant | int,
        role: Role,
        note: str | None = None,
        number_format: str | None = None,
    ) -> Ref:
        row, col = address.parse(where)[:2] if isinstance(where, str) else where
        if row >= address.MAX_ROWS or col >= address.MAX_COLS or row < 0 or col < 0:
            raise ValueError(f"cell outside Excel's grid: row {row + 1}, column {col + 1}")
        if isinstance(content, int | float) and not isinstance(content, bool):
            content = float(content)  # also numpy scalars: the engine works in plain floats
            if role is not Role.FORMULA:
                # .xlsx number cells hold 16 significant digits; compute with exactly
                # the number a spreadsheet application will read back.
                content = float(f"{content:.16G}")
        if role is Role.FORMULA and not isinstance(content, Expr):
            raise TypeError("a formula cell needs an expression")
        if role is not Role.FORMULA and isinstance(content, Expr):
            raise TypeError("only formula cells hold expressions")
        if isinstance(content, float) and content - content != 0.0:
            raise ValueError("a cell cannot hold NaN or infinity")
        self.cells[row, col] = Cell(content, role, note, number_format)
        return Ref(self.name, row, col)

    def label(self, where: str | tuple[int, int], text: str, note: str | None = None) -> Ref:
        return self.set(where, text, Role.LABEL, note)

    def header(self, where: str | tuple[int, int], text: str, note: str | None = None) -> Ref:
        return self.set(where, text, Role.HEADER, note)

    def input(
        self,
        where: str | tuple[int, int],
        value: Constant | int,
        note: str | None = None,
        number_format: str | None = None,
    ) -> Ref:
        return self.set(where, value, Role.INPUT, note, number_format)

    def formula(
        self,
        where: str | tuple[int, int],
        expr: Expr,
        note: str | None = None,
        number_format: str | None = None,
    ) -> Ref:
        return self.set(where, expr, Role.FORMULA, note, number_format)

    # -- reading ------------------------------------------------------------
    def __getitem__(self, a1: str) -> Cell:
        a = address.parse(a1)
        return self.cells[a.row, a.col]

    def formula_cells(self) -> Iterator[tuple[int, int, Cell]]:
        for (row, col), cell in self.cells.items():
            if cell.role is Role.FORMULA:
                yield row, col, cell

    def extent(self) -> tuple[int, int]:
        """Rows and columns in use (one past the last used)."""
        if not self.cells:
            return 0, 0
        return max(r for r, _ in self.cells) + 1, max(c for _, c in self.cells) + 1


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

    def define_name(self, name: str, target: Ref | Range) -> None:
        """A workbook-level defined name, e.g. 'learning_rate' -> basic!$F$1."""
        self.names[name] = target

    def __getitem__(self, name: str) -> Sheet:
        return self.sheets[name]

    def formula_count(self) -> int:
        return sum(1 for s in self.sheets.values() for _ in s.formula_cells())
