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
PAGE_WIDTH = 760.0  # A4 landscape less 0.4-inch margins (784, export's _print_setup), less 3%
PAGE_HEIGHT = 505.0  # less 0.5-inch margins and the line atop the page
ROW_HEIGHT = 15.0
TITLE_EXTRA = 8.0  # a row holding a title (16 points) is this much taller
CHART_WIDTH, CHART_HIGH = 720.0, 18  # a chart's width in points and height in rows
MIN_SCALE = 0.42  # a sheet that prints smaller than this prints its first columns ...
READ_SCALE = 60  # ... at this scale (percent)
MAX_PAGES = 2  # a sheet longer than this many pages prints its first rows
NOTE_CHARS = 80  # a longer note continues on the rows below


@dataclass(frozen=True)
class Front:
    """What the front sheet says: what the workbook teaches, what to change, its charts."""

    title: str
    teaches: Sequence[str]  # two or three lines
    change: Sequence[str]  # which yellow cells to change, and what to watch
    charts: Sequence[Chart] = field(default_factory=tuple)
    # (sheet, A1) of text cells the lesson computes (a sentence that depends on its
    # results): the front shows each, by a formula copying it, under `teaches`
    said: Sequence[tuple[str, str]] = field(default_factory=tuple)


LEGEND = (
    (Role.INPUT, "yellow: an input you may change; everything else follows"),
    (Role.FORMULA, "white: a formula (click it to see how it is computed)"),
    (Role.HEADER, "blue: a header naming the column or block below it"),
)


def workbook(lesson: Lesson, params: Any) -> Workbook:
    """The lesson's workbook with what every workbook gets (front sheet, print setup)."""
    wb = lesson.sheets(params)
    return finish(wb, lesson, params) if lesson.front is not None else wb


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
    for sheet, a1 in front.said:
        s.formula((row, 0), wb[sheet].ref(a1))
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
        s.formula((row, 1), wb[key.sheet].ref(key.a1), number_format=key.number_format)
        s.label((row, 2), f"{key.sheet}!{key.a1}")
    row += 2
    s.header((row, 0), "try this")
    for line in front.change:
        row += 1
        s.label((row, 0), line)
    row += 2
    for chart in front.charts:
        s.charts.append(replace(chart, anchor=(row, 0)))
        row += CHART_ROWS
    s.width(0, 34.0)
    s.width(1, 14.0)
    s.width(2, 22.0)
    s.width(3, 14.0, 12)
    for sheet in wb.sheets.values():
        sheet.landscape = True
        if sheet.print_rows is None and sheet.freeze and sheet.freeze[0]:
            sheet.print_rows = (0, sheet.freeze[0] - 1)
        if sheet is not s:
            notes = _visible_notes(sheet)
            _, cols = sheet.extent()
            sheet.charts = [  # where export would put them: stacked beside the cells
                c if c.anchor is not None else replace(c, anchor=(1 + 19 * i, cols + 1))
                for i, c in enumerate(sheet.charts)
            ]
            _print_part(sheet, notes)
    print_front(s)
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


def print_front(s: Sheet) -> None:
    """The front's print: its first page holds the text and the first chart, each later
    page as many whole charts as fit; a fixed scale, so the page breaks count."""
    reach = _Reach(s)
    rows, _ = s.extent()
    anchors = sorted(c.anchor[0] for c in s.charts if c.anchor is not None)
    last_col = reach.col_at(reach.right_edge())
    first_page = anchors[0] + CHART_HIGH if anchors else rows
    height = first_page * ROW_HEIGHT + TITLE_EXTRA * len({r for r, _ in s.title_cells})
    scale = min(1.0, PAGE_WIDTH / reach.left(last_col + 1), PAGE_HEIGHT / height)
    s.print_scale = max(10, math.floor(scale * 100))
    per_page = int(PAGE_HEIGHT * 100 / s.print_scale // ROW_HEIGHT)
    s.page_breaks, start = [], 0
    for row in anchors[1:]:
        limit = per_page - (1 if start == 0 and s.title_cells else 0)  # the title is taller
        if row + CHART_HIGH - start > limit:
            # in the gap above the chart (none of its frame on the page before), and no
            # later than the page's last row
            gap = row - (CHART_ROWS - CHART_HIGH)
            start = max(gap, min(row - 2, start + limit))
            s.page_breaks.append(start)
    s.print_areas = [(0, 0, max([rows] + [a + CHART_HIGH for a in anchors]) - 1, last_col)]


def _print_part(sheet: Sheet, notes: tuple[int, int, int] | None) -> None:
    """A sheet whose cells would print unreadably small (fitted to one page wide) prints
    its first columns at a readable scale; one longer than MAX_PAGES pages, its first
    rows (to the end of a block); its notes and charts print too, on pages of their own.
    The line atop each page says what the print leaves out."""
    reach = _Reach(sheet)
    rows, _ = sheet.extent()
    rows = max([rows] + [c.anchor[0] + CHART_HIGH for c in sheet.charts if c.anchor])
    right = reach.right_edge()
    last_col = reach.col_at(right)
    scale = min(1.0, PAGE_WIDTH / right)
    narrow = PAGE_WIDTH / reach.right_edge(text=False) < MIN_SCALE  # not for a long line
    head = sheet.print_rows[1] + 1 if sheet.print_rows else 0

    def fitting(scale: float) -> int:  # rows on MAX_PAGES pages
        return head + MAX_PAGES * max(1, int(PAGE_HEIGHT / scale // ROW_HEIGHT) - head)

    if narrow:
        scale = READ_SCALE / 100
        last_col = max(0, reach.col_at(PAGE_WIDTH / scale) - 1)
        # a line of text in those columns that runs past them (what a block is) prints
        # whole, on a page a little smaller (down to MIN_SCALE)
        lines = [reach.text_end(r, last_col)[1] for r in range(fitting(scale)) if r in reach.texts]
        need = max(lines, default=0.0)
        if need > PAGE_WIDTH / scale:
            scale = max(MIN_SCALE, PAGE_WIDTH / need)
            last_col = max(0, reach.col_at(PAGE_WIDTH / scale) - 1)
    limit = fitting(scale)
    short = rows > limit
    if not narrow and not short:
        return
    last_row = _block_end(sheet, limit) if short else rows - 1
    areas = [(0, 0, last_row, last_col)]
    if notes is not None:
        first, col, last = notes
        if col > last_col:
            areas.append((first, col, last, col))
        elif last > last_row:
            areas.append((last_row + 1, col, last, col))
    charts = [c.anchor for c in sheet.charts if c.anchor is not None]
    outside = [(r, c) for r, c in charts if c > last_col or r + CHART_HIGH > last_row]
    if outside:
        r1, c1 = min(r for r, _ in outside), min(c for _, c in outside)
        r2 = max(r for r, _ in outside) + CHART_HIGH
        c2 = max(reach.col_at(reach.left(c) + CHART_WIDTH) for _, c in outside)
        areas.append((r1, c1, r2, c2))
    sheet.print_areas = areas
    if narrow:
        sheet.print_scale = math.floor(scale * 100)
    shown = f"rows 1-{last_row + 1}" if short else "every row"
    shown += f", columns A-{address.col_letters(last_col)}" if narrow else ", every column"
    sheet.print_note = (
        f"This print shows the first part of {sheet.name}: {shown}. To print the rest, "
        "select it and print the selection, or clear the print area."
    )


def _block_end(sheet: Sheet, limit: int) -> int:
    """The last row of the last block of rows (rows between empty ones) that ends in the
    second half of the first `limit` rows; else row `limit` - 1."""
    used = bytearray(limit + 1)
    for row, _ in sheet.cells:
        if row <= limit:
            used[row] = 1
    for f in sheet.fills:
        for row in range(f.first, min(f.last, limit) + 1):
            used[row] = 1
    for row in range(limit - 1, limit // 2, -1):
        if used[row] and not used[row + 1]:
            return row
    return limit - 1


def _text_width(text: str, size: float, bold: bool) -> float:
    return len(text) * size * (0.61 if bold else 0.55)


class _Reach:
    """How far right a sheet's columns, text and charts reach on paper, in points."""

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

    def col_at(self, x: float) -> int:
        """The column in which `x` points falls."""
        col = 0
        while self.left(col + 1) < x:
            col += 1
        return col

    def text_end(self, row: int, upto: int | None = None) -> tuple[int, float]:
        """The last column a row's text (in columns up to `upto`) runs into over empty
        cells, and where it ends."""
        last, edge = -1, 0.0
        for col, width in self.texts.get(row, ()):
            if upto is not None and col > upto:
                continue
            end, c = self.left(col) + width, col
            while self.left(c + 1) < end and self.sheet.cell(row, c + 1) is None:
                c += 1
            last, edge = max(last, c), max(edge, min(end, self.left(c + 1)))
        return last, edge

    def right_edge(self, text: bool = True) -> float:
        """Where the cells and the charts end, and with `text` the text run past them."""
        _, cols = self.sheet.extent()
        edge = self.left(cols)
        for chart in self.sheet.charts:
            if chart.anchor is not None:
                edge = max(edge, self.left(chart.anchor[1]) + CHART_WIDTH)
        for row in self.texts if text else ():
            edge = max(edge, self.text_end(row)[1])
        return edge


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
