"""What every workbook gets, whatever its lesson: a front sheet that explains it, a
colour legend, the key results, charts, and a print setup that reads on paper.

A lesson says what its front sheet holds (`Front`); `finish` does the rest, so a
new lesson gets all of it without asking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..engine import Const, Ref, Role, Workbook, address
from ..engine.workbook import Chart, Sheet

if TYPE_CHECKING:
    from .contract import Lesson

CHART_ROWS = 22  # rows a chart takes on the front sheet (a 360-pixel chart, and a gap)


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


def _visible_notes(sheet: Sheet) -> None:
    """Hover notes print nowhere: list each one in a column right of the sheet's cells."""
    notes = [(row, col, cell.note) for (row, col), cell in sheet.cells.items() if cell.note]
    notes += [(f.first, f.col, f.note) for f in sheet.fills if f.note]
    if not notes:
        return
    _, cols = sheet.extent()
    col = cols + 1
    sheet.header((0, col), "notes on this sheet's cells (also shown on hover)")
    for i, (row, c, note) in enumerate(sorted(notes)):
        sheet.label((1 + i, col), f"{address.render(row, c)}: {note}")


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
