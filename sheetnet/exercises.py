"""Exercise workbooks: the lesson's own layout, with the cells a learner writes empty.

Each lesson declares its exercises (contract.Exercise): a column found by its
header, and every cell whose formula is that column's first formula filled down or
across. Those cells are left empty and coloured; everything downstream stays a
formula, so the learner sees the effect of each answer. No answer is kept in the
file: not the formulas, not their values. A self-check per exercise compares two
sums of the learner's cells (their sum and their sum of squares) with the same sums
of the answers: one pair of numbers for a whole block, which tells whether the block
is right without telling any cell's value. `sheetnet grade` is the judge.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .engine import Call, Expr, If, Range, Ref, Role, Workbook, address
from .engine.evaluate import Results
from .lessons.contract import Exercise, Lesson
from .lessons.kit import print_front

SHEET = "exercises"
DONE, NOT_YET, AGAIN = "done", "not yet", "check again"
MAX_RANGES = 200
GUIDE = (
    "green cells are yours: write the first cell named, then fill it down or across as the "
    "task says (a repeated header starts a block of its own: write its first cell too)",
    "check: 'done' when your cells give the answers' sum and sum of squares; it assumes "
    "the inputs as built; `sheetnet grade FILE` is the judge, on other inputs too",
)  # a self-check's SUM takes at most 255 arguments


Key = tuple[str, int, int]  # (sheet, row, col), zero-based


@dataclass(frozen=True)
class Placed:
    """An exercise and the cells it covers in one workbook."""

    exercise: Exercise
    # each block's first cell and its formula (sheetnet's): every column under the
    # exercise's headers, on any sheet (the same quantity computed elsewhere, image 2's
    # softmax, a second run), starts a block of its own
    blocks: tuple[tuple[Key, Expr], ...]
    cells: tuple[Key, ...]  # every cell, sorted

    @property
    def where(self) -> str:
        shown = [f"{s}!{address.render(r, c)}" for (s, r, c), _ in self.blocks[:4]]
        more = f" and {len(self.blocks) - 4} more" if len(self.blocks) > 4 else ""
        return ", ".join(shown) + more

    def ranges(self) -> list[Range]:
        """The cells as ranges: each column's runs of consecutive rows."""
        out: list[Range] = []
        by_col: dict[tuple[str, int], list[int]] = {}
        for sheet, row, col in self.cells:
            by_col.setdefault((sheet, col), []).append(row)
        for (sheet, col), rows in by_col.items():
            start = prev = rows[0]
            for row in [*rows[1:], None]:
                if row is not None and row == prev + 1:
                    prev = row
                    continue
                out.append(Range(Ref(sheet, start, col), Ref(sheet, prev, col)))
                if row is not None:
                    start = prev = row
        return out


def place(wb: Workbook, exercise: Exercise) -> Placed:
    """Find an exercise's cells in a lesson's model: its own sheet first, then every
    other sheet with a column under one of its headers."""
    if exercise.sheet not in wb.sheets:
        raise ValueError(f"exercise {exercise.name}: no sheet {exercise.sheet!r}")
    wanted = (exercise.header, *exercise.also)
    order = [exercise.sheet] + [name for name in wb.sheets if name != exercise.sheet]
    blocks: list[tuple[Key, Expr]] = []
    cells: set[Key] = set()
    for name in order:
        sheet = wb[name]
        heads = sorted(
            (wanted.index(cell.content), col, row)
            for (row, col), cell in sheet.cells.items()
            if cell.role is Role.HEADER and cell.content in wanted
        )
        formulas = [(r, c, cell.content) for r, c, cell in sheet.formula_cells()] if heads else []
        for _, col, row in heads:
            below = [(r, sheet.cell(r, col)) for r in range(row + 1, row + 4)]  # past a start
            found = [(r, c) for r, c in below if c is not None and c.role is Role.FORMULA]
            if not found or (name, found[0][0], col) in cells:
                continue
            first, answer = (found[0][0], col), found[0][1].content
            blocks.append(((name, *first), answer))  # type: ignore[arg-type]
            cells.update(
                (name, r, c)
                for r, c, expr in formulas
                if expr.matches(answer, r - first[0], c - first[1])  # type: ignore[arg-type,union-attr]
            )
    if not blocks or blocks[0][0][0] != exercise.sheet:
        raise ValueError(f"exercise {exercise.name}: no formula under {exercise.header!r}")
    return Placed(
        exercise, tuple(blocks), tuple(sorted(cells, key=lambda k: (order.index(k[0]), k[1], k[2])))
    )


def placed(lesson: Lesson, wb: Workbook) -> list[Placed]:
    return [place(wb, e) for e in lesson.exercises]


def exercise_workbook(lesson: Lesson, params: Any, wb: Workbook, answers: Results) -> Workbook:
    """`wb` (the lesson's model) turned into its exercise workbook: the exercises' cells
    emptied, an `exercises` sheet with each task, hint and self-check, a score on the
    front. `answers` are the model's values (for the self-checks' two sums)."""
    found = placed(lesson, wb)
    sheet = wb.add_sheet(SHEET)
    sheet.label((0, 0), f"Exercises: {lesson.name}")
    sheet.title_cells.add((0, 0))
    for k, line in enumerate(GUIDE):
        sheet.label((1 + k, 0), line)
    row = len(GUIDE) + 2
    for k, text in enumerate(("exercise", "check", "level", "what to do")):
        sheet.header((row, k), text)
    checks = []
    for p in found:  # one block of rows each: reads on a screen and on paper alike
        e = p.exercise
        row += 1
        sheet.label((row, 0), e.name)
        sheet.formula((row, 1), _self_check(p, answers))
        checks.append(Ref(SHEET, row, 1))
        sheet.set((row, 2), float(e.level), Role.LABEL)
        lines = (f"write: {p.where} ({len(p.cells):,} cells)", f"task: {e.task}",
                 f"hint: {e.hint}", f"concept: {e.concept}")  # fmt: skip
        for k, line in enumerate(lines):
            sheet.label((row + k, 3), line)
        row += len(lines)
        for name, r, c in p.cells:
            wb[name].set((r, c), None, Role.EXERCISE)
    for col, width in enumerate((18.0, 12.0, 6.0, 120.0)):
        sheet.width(col, width)
    sheet.landscape = True
    _score(wb, found, checks)
    return wb


def _self_check(p: Placed, answers: Results) -> Expr:
    """'not yet' until every cell holds a number; then 'done' when the block's sum and
    sum of squares are the answers' (within rounding), else 'check again'."""
    values = [answers[key] for key in p.cells]
    numbers = [v for v in values if type(v) is float]
    total, squares = sum(numbers), sum(v * v for v in numbers)
    scale = sum(abs(v) for v in numbers) + 1e-300
    tol, tol2 = 1e-9 * scale, 1e-9 * (squares + 1e-300)
    ranges = p.ranges()
    if len(ranges) > MAX_RANGES:
        ranges = ranges[:MAX_RANGES]  # a partial check: the rest is grade's
    count = Call("COUNT", *ranges)
    off = Call("ABS", Call("SUM", *ranges) - total)
    off2 = Call("ABS", Call("SUMSQ", *ranges) - squares)
    right = If(off <= tol, If(off2 <= tol2, DONE, AGAIN), AGAIN)
    cells = sum(r.shape[0] * r.shape[1] for r in ranges)
    return If(count < float(cells), NOT_YET, right)


def _score(wb: Workbook, found: list[Placed], checks: list[Ref]) -> None:
    """The front sheet: the exercises' colour and a live score, on its first page (the
    charts below move down to make room)."""
    front = wb.sheets.get("front")
    if front is None or not checks:
        return
    rows, _ = front.extent()
    row = rows + 1
    if front.charts:
        row = min(c.anchor[0] for c in front.charts if c.anchor is not None)
        room = 4
        front.charts = [replace(c, anchor=(c.anchor[0] + room, c.anchor[1])) if c.anchor
                        else c for c in front.charts]  # fmt: skip
    front.header((row, 0), "exercises")
    front.set((row + 1, 0), None, Role.EXERCISE)
    front.label((row + 1, 1), "green: a cell you write (the exercises sheet says what)")
    first, last = checks[0], checks[-1]
    done = Call("SUMPRODUCT", (Range(first, Ref(SHEET, last.row, last.col)).eq(DONE)) * 1.0)
    front.label((row + 2, 0), "exercises done")
    front.formula((row + 2, 1), done)
    front.label((row + 2, 2), f"of {len(found)}")
    print_front(front)  # its first page still holds the first chart


__all__ = ["DONE", "Placed", "exercise_workbook", "place", "placed"]
