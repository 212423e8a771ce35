"""A sheet as a table: for a terminal, or as a pandas DataFrame for a notebook."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .engine import address
from .engine.errors import ExcelError
from .reader import Package
from .text import brief, printable

if TYPE_CHECKING:
    import pandas as pd

MAX_TABLE_CELLS = 2_000_000  # a table for a terminal or a notebook, not a whole sheet


@dataclass
class Table:
    """Rows `first`.. of a sheet: column letters and each row's cells (no pandas, so
    the terminal's `show` starts fast)."""

    first: int
    columns: list[str]
    rows: list[list[object]]
    notes: list[str] = field(default_factory=list)


def sheet_table(
    path: str | os.PathLike[str],
    sheet: str | None = None,
    formulas: bool = False,
    rows: tuple[int, int] | None = None,
) -> Table:
    """The cells of one sheet (default: the first): values, or with `formulas` the
    formula of each formula cell. `rows` = (first, last), 1-based and inclusive."""
    with Package(path) as package:  # checked and read through one open handle
        names = package.sheet_names
        if not names:
            raise ValueError(f"{path}: the workbook has no sheets")
        name = sheet or names[0]
        if name not in names:
            shown = printable(", ".join(names))[:300]
            raise ValueError(f"{path}: no sheet {printable(name)!r} (sheets: {shown})")
        saved = package.sheet(name)  # only the sheet shown is read
        notes = package.notes
    grid: dict[tuple[int, int], object] = {}
    sources = [saved.values.cells()] + ([saved.formulas.cells()] if formulas else [])
    for cells in sources:
        for row, col, _ in cells:
            grid[row + 1, col] = None
    if not grid:
        return Table(1, [], [], notes)
    last_row = max(r for r, _ in grid)
    first, last = rows or (1, last_row)
    last = min(last, last_row)
    width = max(c for _, c in grid) + 1
    size = max(0, last - first + 1) * width
    if size > MAX_TABLE_CELLS:
        raise ValueError(
            f"{path}: rows {first}..{last} of sheet {printable(name)!r} make a table of "
            f"{size:,} cells; show at most {MAX_TABLE_CELLS:,}: use fewer --rows"
        )

    def at(row: int, col: int) -> object:
        text = saved.formulas.text_at(row, col) if formulas else None
        value = text if text is not None else saved.values.at(row, col)
        return value.code if isinstance(value, ExcelError) else value

    body = [[at(r - 1, c) for c in range(width)] for r in range(first, last + 1)]
    return Table(first, [address.col_letters(c) for c in range(width)], body, notes)


def read_sheet(
    path: str | os.PathLike[str],
    sheet: str | None = None,
    formulas: bool = False,
    rows: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """The cells of one sheet (default: the first) as a DataFrame.

    Columns are the sheet's letters, the index its 1-based row numbers; with
    `formulas`, formula cells show their formula instead of their saved value.
    `rows` = (first, last), 1-based and inclusive.
    """
    import pandas as pd

    table = sheet_table(path, sheet, formulas, rows)
    if not table.columns:
        return pd.DataFrame()
    index = pd.RangeIndex(table.first, table.first + len(table.rows), name="row")
    return pd.DataFrame(table.rows, columns=table.columns, index=index)


def fit(v: object, width: int) -> str:
    """A cell's text in at most `width` characters: a number rounded to fit (never cut
    mid-exponent), text cut and marked with an ellipsis."""
    if isinstance(v, str):
        return _cut(printable(v[: width + 1]), width)  # cut before escaping: bounded
    if isinstance(v, float) and v == v:
        for digits in range(6, 0, -1):
            text = f"{v:.{digits}g}"
            if len(text) <= width:
                return text
        return "#" * width  # as a spreadsheet shows a number too wide for its column
    return _cut(brief(v), width)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(table: Table, max_width: int = 28) -> str:
    """Aligned plain text: numbers to at most 6 significant digits, rounded to fit
    `max_width`; text longer than that cut and marked with an ellipsis."""
    if not table.columns:
        return "(empty)"
    texts = [[fit(v, max_width) for v in row] for row in table.rows]
    index = [str(table.first + k) for k in range(len(table.rows))]
    iw = max(len("row"), *(len(i) for i in index)) if index else len("row")
    widths = [
        max(len(c), *(len(row[j]) for row in texts)) if texts else len(c)
        for j, c in enumerate(table.columns)
    ]
    lines = [f"{'row':>{iw}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(table.columns, widths))]
    for i, row in zip(index, texts):
        lines.append(f"{i:>{iw}}  " + "  ".join(f"{t:>{w}}" for t, w in zip(row, widths)))
    return "\n".join(line.rstrip() for line in lines)
