"""OFFSET: the range `rows` down and `cols` right of a reference, as Excel reads it.

fast.ai's entropy_example reads its prediction with ``OFFSET(Dn,0,Hn)``; sheetnet's
own lessons write INDEX instead (OFFSET is volatile in every application), but a
learner's or a teacher's workbook may hold one, and reading it must not change it.
"""

from __future__ import annotations

import math

from . import address
from .errors import REF, VALUE, ExcelError
from .expr import Context, Expr, Range, Ref, _scalar
from .semantics import Grid, Value, to_number

MAX_CELLS = 10_000_000  # as parse.MAX_RANGE


class Offset(Expr):
    """OFFSET(base, rows, cols[, height[, width]]); moves and sizes are any expressions."""

    __slots__ = ("base", "moves")

    def __init__(self, base: Ref | Range, *moves: Expr) -> None:
        if not 2 <= len(moves) <= 4:
            raise ValueError("OFFSET takes 3 to 5 arguments")
        self.base, self.moves = base, moves

    def children(self) -> tuple[Expr, ...]:
        return (self.base, *self.moves)

    def target(self, ctx: Context) -> tuple[str, int, int, int, int] | ExcelError:
        """(sheet, row1, col1, row2, col2) of the cells it names, or the error."""
        base = self.base
        r1, c1, r2, c2 = (
            base.bounds() if type(base) is Range else (base.row, base.col, base.row, base.col)
        )
        numbers = []
        for move in self.moves:
            n = to_number(_scalar(move.evaluate(ctx)))
            if type(n) is ExcelError:
                return n
            numbers.append(math.trunc(n))  # type: ignore[arg-type]
        down, right, *size = numbers
        height = size[0] if size else r2 - r1 + 1
        width = size[1] if len(size) > 1 else c2 - c1 + 1
        top, left = r1 + down, c1 + right
        bottom, right_end = top + height - 1, left + width - 1
        if top < 0 or left < 0 or height < 1 or width < 1:
            return REF
        if bottom >= address.MAX_ROWS or right_end >= address.MAX_COLS:
            return REF  # past the grid's edge, as Excel says
        return base.sheet, top, left, bottom, right_end

    def evaluate(self, ctx: Context) -> Value | Grid:
        where = self.target(ctx)
        if type(where) is ExcelError:
            return where
        sheet, r1, c1, r2, c2 = where  # type: ignore[misc]
        if (r2 - r1 + 1) * (c2 - c1 + 1) > MAX_CELLS:
            return VALUE  # a range too large to hold (the engine keeps a range's values)
        if r1 == r2 and c1 == c2:
            return ctx.cell(sheet, r1, c1)
        return ctx.grid(sheet, r1, c1, r2, c2)

    def render(self, host: str, marked: bool = False) -> str:
        args = ",".join(a.render(host, marked) for a in self.children())
        return f"OFFSET({args})"

    def shift(self, rows: int, cols: int = 0) -> Expr:
        return Offset(self.base.shift(rows, cols), *(m.shift(rows, cols) for m in self.moves))

    def _key(self) -> tuple:
        return (self.base, self.moves)
