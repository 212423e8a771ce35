"""What every workbook gets, whatever its lesson: a front sheet that explains it, a
colour legend, the key results, charts, and a print setup that reads on paper.

A lesson says what its front sheet holds (`Front`); `finish` does the rest, so a
new lesson gets all of it without asking.
"""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..engine import Const, Ref, Role, Workbook, address
from ..engine.workbook import Chart, Sheet

if TYPE_CHECKING:
    from .contract import Lesson

CHART_ROWS = 22  # rows a chart takes on the front sheet (a 360-pixel chart, and a gap)

# Printing. Sizes are in points as LibreOffice prints a workbook where Calibri is
# missing (DejaVu Sans in its place, the widest case): a column w characters wide is
# 7w + 5 points, a character of text about 0.55 of its font size (0.61 in bold). Excel
# and Calibri print everything narrower, so a page that holds these estimates holds the
# real print.
NOTE_CHARS = 80  # a longer note continues on the rows below


@dataclass(frozen=True)
class Front:
    """What the front sheet says: what the workbook teaches, what to change, its charts."""

    title: str
    teaches: Sequence[str]  # two or three lines
    change: Sequence[str]  # which yellow cells to change, and what to watch
    charts: Sequence[Chart] = field(default_factory=tuple)


LEGEND = (
    (Role.INPUT, "yellow: an input you may change; everything else follows"),
    (Role.FORMULA, "white: a formula (click it to see how it is computed)"),
    (Role.HEADER, "blue: a header naming the column or block below it"),
)


def finish(wb: Workbook, lesson: Lesson, params: Any) -> Workbook:
    """Add the front sheet (first, so the file opens on it) and every sheet's print setup."""
    front = lesson.front(params)
    s = wb.add_sheet("front")
    wb.sheets = {"front": s, **{k: v for k, v in wb.sheets.items() if k != "front"}}
    s.label("A1", front.title)
    s.title_cells.add((0, 0))
    row = 2
    for line in front.teaches:
        s.label((row, 0), line)
        row += 1
    row += 1
    s.header((row, 0), "colours")
    for role, text in LEGEND:
        row += 1
        s.set((row, 0), Const("=formula") if role is Role.FORMULA else "example", role)
        s.label((row, 1), text)
    row += 2
    s.header((row, 0), "key results")
    s.header((row, 1), "value")
    s.header((row, 2), "cell")
    for key in lesson.key_results(params):
        row += 1
        s.label((row, 0), key.label)
        at = address.parse(key.a1)
        s.formula((row, 1), Ref(key.sheet, at.row, at.col), number_format=key.number_format)
        s.label((row, 2), f"{key.sheet}!{key.a1}")
    row += 2
    s.header((row, 0), "try this")
    for line in front.change:
        row += 1
        s.label((row, 0), line)
    row += 2
    for chart in front.charts:
        s.charts.append(replace(chart, anchor=(row, 0)))
        s.page_breaks.append(row)
        row += CHART_ROWS
    s.width(0, 34.0)
    s.width(1, 14.0)
    s.width(2, 22.0)
    s.width(3, 14.0, 12)
    for sheet in wb.sheets.values():
        if sheet is not s:
            _visible_notes(sheet)
        sheet.landscape = True
        if sheet.print_rows is None and sheet.freeze and sheet.freeze[0]:
            sheet.print_rows = (0, sheet.freeze[0] - 1)
    return wb


def _visible_notes(sheet: Sheet) -> tuple[int, int, int] | None:
    """Hover notes print nowhere: list each one in a column right of the sheet's cells,
    a long one over several rows, in a column wide enough to hold them, below any row
    whose text (a long title in A1) runs into that column. Returns where they went:
    (first row, column, last row)."""
    notes = [(row, col, cell.note) for (row, col), cell in sheet.cells.items() if cell.note]
    notes += [(f.first, f.col, f.note) for f in sheet.fills if f.note]
    if not notes:
        return None
    lines = [
        line
        for row, c, note in sorted(notes)
        for line in textwrap.wrap(
            f"{address.render(row, c)}: {note}", NOTE_CHARS, subsequent_indent="    ",
            break_long_words=False, break_on_hyphens=False,
        )
    ]  # fmt: skip
    reach = _Reach(sheet)
    rows, cols = sheet.extent()
    first = 0
    while first < rows and reach.text_end(first)[0] > cols:
        first += 1
    col = max([cols + 1] + [reach.text_end(r)[0] + 1 for r in range(first, first + len(lines) + 1)])
    header = "notes on this sheet's cells (also shown on hover)"
    sheet.header((first, col), header)
    for i, line in enumerate(lines):
        sheet.label((first + 1 + i, col), line)
    widest = max([_text_width(header, 11.0, True)] + [_text_width(t, 11.0, False) for t in lines])
    sheet.width(col, math.ceil((widest + 8.0 - 5.0) / 7.0))
    return first, col, first + len(lines)


def _text_width(text: str, size: float, bold: bool) -> float:
    return len(text) * size * (0.61 if bold else 0.55)


class _Reach:
    """How far right a sheet's columns and text reach on paper, in points."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.lefts = [0.0]
        self.texts: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for (row, col), cell in sheet.cells.items():
            if isinstance(cell.content, str) and cell.content:
                title = (row, col) in sheet.title_cells
                bold = title or cell.role is Role.HEADER
                width = _text_width(cell.content, 16.0 if title else 11.0, bold)
                self.texts[row].append((col, width))

    def left(self, col: int) -> float:
        """Where column `col` starts."""
        while len(self.lefts) <= col:
            width = self.sheet.col_widths.get(len(self.lefts) - 1, 8.43)
            self.lefts.append(self.lefts[-1] + 7.0 * width + 5.0)
        return self.lefts[col]

    def text_end(self, row: int) -> tuple[int, float]:
        """The last column a row's text runs into over empty cells, and where it ends."""
        last, edge = -1, 0.0
        for col, width in self.texts.get(row, ()):
            end, c = self.left(col) + width, col
            while self.left(c + 1) < end and self.sheet.cell(row, c + 1) is None:
                c += 1
            last, edge = max(last, c), max(edge, min(end, self.left(c + 1)))
        return last, edge


def front_expected(wb: Workbook, expected: dict) -> dict:
    """Expected values of the front sheet, from a lesson's reference values: each of its
    formulas copies another cell (or is the legend's constant)."""
    out: dict = {}
    front = wb.sheets.get("front")
    for row, col, cell in front.formula_cells() if front is not None else ():
        content = cell.content
        if isinstance(content, Ref):
            key = (content.sheet, address.render(content.row, content.col))
            if key in expected:
                out["front", address.render(row, col)] = expected[key]
        elif isinstance(content, Const):
            out["front", address.render(row, col)] = content.value
    return out
