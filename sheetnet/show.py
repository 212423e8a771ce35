"""A sheet as a table: for a terminal, or as a pandas DataFrame for a notebook."""

from __future__ import annotations

import os

import pandas as pd

from .engine import address
from .engine.errors import ExcelError
from .reader import Package
from .text import brief

MAX_TABLE_CELLS = 2_000_000  # a table for a terminal or a notebook, not a whole sheet


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
    with Package(path) as package:  # checked and read through one open handle
        names = package.sheet_names
        if not names:
            raise ValueError(f"{path}: the workbook has no sheets")
        name = sheet or names[0]
        if name not in names:
            raise ValueError(f"{path}: no sheet {name!r} (sheets: {', '.join(names)})")
        saved = package.sheet(name)  # only the sheet shown is read
    cells = dict(saved.values)
    if formulas:
        cells.update(saved.formulas.items())
    grid: dict[tuple[int, int], object] = {}
    for a1, value in cells.items():
        at = address.parse(a1)
        grid[at.row + 1, at.col] = value.code if isinstance(value, ExcelError) else value
    if not grid:
        return pd.DataFrame()
    last_row = max(r for r, _ in grid)
    first, last = rows or (1, last_row)
    last = min(last, last_row)
    cols = range(max(c for _, c in grid) + 1)
    size = max(0, last - first + 1) * len(cols)
    if size > MAX_TABLE_CELLS:
        raise ValueError(
            f"{path}: rows {first}..{last} of sheet {name!r} make a table of "
            f"{size:,} cells; show at most {MAX_TABLE_CELLS:,}: use fewer --rows"
        )
    data = {
        address.col_letters(c): [grid.get((r, c)) for r in range(first, last + 1)] for c in cols
    }
    return pd.DataFrame(data, index=pd.RangeIndex(first, last + 1, name="row"))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(frame: pd.DataFrame, max_width: int = 28) -> str:
    """Aligned plain text: numbers to 6 significant digits, text longer than
    `max_width` cut and marked with an ellipsis."""
    if frame.empty:
        return "(empty)"
    texts = {c: [_cut(brief(v), max_width) for v in frame[c]] for c in frame.columns}
    index = [str(i) for i in frame.index]
    iw = max(len("row"), *(len(i) for i in index))
    widths = {c: max(len(str(c)), *(len(t) for t in texts[c])) for c in frame.columns}
    lines = [f"{'row':>{iw}}  " + "  ".join(f"{c:>{widths[c]}}" for c in frame.columns)]
    for k, i in enumerate(index):
        lines.append(
            f"{i:>{iw}}  " + "  ".join(f"{texts[c][k]:>{widths[c]}}" for c in frame.columns)
        )
    return "\n".join(line.rstrip() for line in lines)
