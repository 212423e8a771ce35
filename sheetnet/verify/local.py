"""Local agreement: each formula against an application's own inputs.

Two spreadsheet applications that both compute IEEE doubles still part ways
over long recurrences: a last-bit difference in one step is carried forward and,
where a formula subtracts nearly equal numbers, magnified. Comparing every cell
with the cached value mixes the application's arithmetic with that drift. Here
each formula is evaluated by the engine on the values the application itself
saved for the cells it reads, and must equal the application's own result within
a bound propagated through the formula from the rounding of those inputs (each
saved with about 15 significant digits) and of each operation. What is left
is the application's arithmetic, formula by formula.
"""

from __future__ import annotations

import math

from ..engine.expr import BinOp, Call, Const, Expr, If, Neg, Paren, Range, Ref, _scalar
from ..engine.functions import FUNCTIONS
from ..engine.semantics import Grid, Value
from ..engine.workbook import Workbook
from .readback import SavedSheet
from .report import normalise

INPUT_REL = 1e-15  # a saved number's relative rounding (15 significant digits: 5e-16)
UNIT = 2.0**-52  # one rounding of one operation, relative
SAFETY = 8.0  # the bound's margin for what first-order propagation leaves out
WITHIN = "within the rounding sensitivity of the formula on the application's own inputs"


class SavedValues:
    """An evaluation context that reads the values an application saved."""

    input_rel = INPUT_REL  # the relative rounding of a value read (see `rounded`)

    def __init__(self, sheets: dict[str, SavedSheet]) -> None:
        self.sheets = sheets

    def rounded(self, ref: Ref) -> bool:
        """Whether the cell's saved value was rounded on saving (a formula's result);
        inputs are read back exactly as stored."""
        saved = self.sheets.get(ref.sheet)
        return saved is not None and saved.formulas.at(ref.row, ref.col) is not None

    def cell(self, sheet: str, row: int, col: int) -> Value:
        saved = self.sheets.get(sheet)
        if saved is None:
            return None
        return normalise(saved.values.at(row, col))  # type: ignore[return-value]

    def grid(self, sheet: str, row1: int, col1: int, row2: int, col2: int) -> Grid:
        values = [self.cell(sheet, r, c) for r in range(row1, row2 + 1)
                  for c in range(col1, col2 + 1)]  # fmt: skip
        return Grid(row2 - row1 + 1, col2 - col1 + 1, values)


def _mag(v: object) -> float:
    return abs(v) if type(v) is float else 0.0


def bound(expr: Expr, ctx: SavedValues) -> float:
    """An upper bound on the absolute error of `expr`'s value from its inputs'
    rounding and its own operations (inf when the formula's outcome hinges on a
    comparison within rounding, or an error could appear)."""
    value = _scalar(expr.evaluate(ctx))
    t = type(expr)
    if t is Const:
        return 0.0
    if t is Ref:
        return ctx.input_rel * _mag(value) if ctx.rounded(expr) else 0.0  # type: ignore[arg-type]
    if t is Paren:
        return bound(expr.inner, ctx)  # type: ignore[attr-defined]
    if t is Neg:
        return bound(expr.operand, ctx)  # type: ignore[attr-defined]
    if t is BinOp:
        return _binop(expr, value, ctx)  # type: ignore[arg-type]
    if t is If:
        cond = expr.cond  # type: ignore[attr-defined]
        if type(cond) is BinOp and not math.isfinite(_binop(cond, None, ctx)):
            return math.inf
        taken = expr.then if _scalar(cond.evaluate(ctx)) else expr.other  # type: ignore[attr-defined]
        return bound(taken, ctx)
    if t is Call:
        return _call(expr, value, ctx)  # type: ignore[arg-type]
    return math.inf


def _binop(e: BinOp, value: object, ctx: SavedValues) -> float:
    a, b = _scalar(e.left.evaluate(ctx)), _scalar(e.right.evaluate(ctx))
    ea, eb = bound(e.left, ctx), bound(e.right, ctx)
    if e.prec == 1:  # a comparison: uncertain when the operands are within their errors
        if type(a) is float and type(b) is float and abs(a - b) <= SAFETY * (ea + eb):
            return math.inf if ea + eb > 0 else 0.0
        return 0.0
    if type(value) is not float or type(a) is not float or type(b) is not float:
        return 0.0 if type(value) is not float else math.inf
    r = abs(value)
    if e.op in "+-":
        return ea + eb + UNIT * r
    if e.op == "*":
        return abs(a) * eb + abs(b) * ea + ea * eb + UNIT * r
    if e.op == "/":
        return (ea + r * eb) / (abs(b) - eb) + UNIT * r if abs(b) > eb else math.inf
    if a > 0:  # ^
        return r * (abs(b / a) * ea + abs(math.log(a)) * eb) + UNIT * r
    return r * abs(b / a) * ea + UNIT * r if b.is_integer() and eb == 0 and a != 0 else math.inf


def _range_errors(arg: Expr, ctx: SavedValues) -> list[tuple[float, float]]:
    """(value, error) of every element a range or scalar argument contributes."""
    if type(arg) is Range:
        grid = arg.evaluate(ctx)
        return [(v, ctx.input_rel * abs(v)) for v in grid.values if type(v) is float]
    v = _scalar(arg.evaluate(ctx))
    return [(v, bound(arg, ctx))] if type(v) is float else []


def _call(e: Call, value: object, ctx: SavedValues) -> float:
    if type(value) is not float:
        return 0.0
    r, name = abs(value), e.name
    fn = FUNCTIONS.get(name)
    if fn is not None and fn.slope is not None and len(e.args) == 1:
        x = _scalar(e.args[0].evaluate(ctx))
        ex = bound(e.args[0], ctx)
        if type(x) is not float:
            return math.inf
        return fn.slope(x, r) * ex + UNIT * r  # the function's own slope (functions.py)
    if name in ("SUM", "AVERAGE", "SUMSQ", "MAX", "MIN"):
        items = [x for arg in e.args for x in _range_errors(arg, ctx)]
        if name == "SUMSQ":
            items = [(v * v, 2 * abs(v) * err) for v, err in items]
        total = sum(err for _, err in items) + UNIT * len(items) * sum(abs(v) for v, _ in items)
        if name in ("MAX", "MIN"):
            return max((err for _, err in items), default=0.0)
        return total / len(items) if name == "AVERAGE" and items else total
    if name == "SUMPRODUCT" and all(type(a) is Range for a in e.args) and len(e.args) == 2:
        xs = e.args[0].evaluate(ctx).values  # type: ignore[union-attr]
        ys = e.args[1].evaluate(ctx).values  # type: ignore[union-attr]
        pairs = [(x, y) for x, y in zip(xs, ys) if type(x) is float and type(y) is float]
        spread = sum(abs(x * y) for x, y in pairs)
        return 2 * ctx.input_rel * spread + UNIT * len(pairs) * spread
    if name == "INDEX":
        return ctx.input_rel * r
    if name in ("COUNT", "MATCH"):
        return 0.0
    return math.inf


def agrees_locally(expr: Expr, app_value: object, ctx: SavedValues, rtol: float) -> bool:
    """Whether `expr`, evaluated on the application's saved inputs, gives the
    application's value within rtol or within its propagated rounding bound."""
    mine = normalise(_scalar(expr.evaluate(ctx)))
    got = normalise(app_value)
    if type(mine) is not float or type(got) is not float:
        return mine == got or (mine is got)
    if not (math.isfinite(mine) and math.isfinite(got)):
        return mine == got  # an infinity (a file's 1e999) is never rounding
    diff = abs(mine - got)
    if diff <= rtol * max(abs(mine), abs(got)):
        return True
    return diff <= SAFETY * bound(expr, ctx)


DRIFT = (
    "drift: beyond the tolerance only because its inputs differ "
    "(its formula agrees on each side's own inputs)"
)


class ResultsValues:
    """An evaluation context over the engine's own results (exact, never rounded)."""

    input_rel = INPUT_REL

    def __init__(self, results: object) -> None:
        self.results = results

    def rounded(self, ref: Ref) -> bool:
        return False

    def cell(self, sheet: str, row: int, col: int) -> Value:
        return self.results.get((sheet, row, col))  # type: ignore[attr-defined]

    def grid(self, sheet: str, row1: int, col1: int, row2: int, col2: int) -> Grid:
        values = [self.cell(sheet, r, c) for r in range(row1, row2 + 1)
                  for c in range(col1, col2 + 1)]  # fmt: skip
        return Grid(row2 - row1 + 1, col2 - col1 + 1, values)


def drifted(
    expr: Expr, expected: object, got: object, expected_ctx: object, got_ctx: object
) -> bool:
    """Whether two values of one formula differ only because their inputs do: the
    formula gives `expected` on one side's inputs and `got` on the other's."""
    return agrees_locally(expr, expected, expected_ctx, 1e-12) and agrees_locally(  # type: ignore[arg-type]
        expr,
        got,
        got_ctx,
        1e-12,  # type: ignore[arg-type]
    )


class Perturbed(ResultsValues):
    """The engine's results, each cell read known only to `rel` relative: what a
    formula's value may become when everything it reads moves within a tolerance."""

    def __init__(self, results: object, rel: float) -> None:
        super().__init__(results)
        self.input_rel = rel

    def rounded(self, ref: Ref) -> bool:
        return True


def allowance(expr: Expr, ctx: Perturbed) -> float:
    """How far `expr`'s value may move when each cell it reads moves by the context's
    tolerance (and each of its operations rounds): the propagated bound, with SAFETY's
    margin. A value no larger than this has no digit a relative comparison can use."""
    return SAFETY * bound(expr, ctx)


SELECTIONS = ("MAX", "MIN")  # functions whose value is one of the cells they read
COPY_DEPTH = 8  # how many copies (or MAX of copies) deep a cell's level is followed


def _selected(expr: Expr) -> list[tuple[str, int, int]] | None:
    """The cells a formula picks its value from, when it only picks one (a reference,
    MAX or MIN of cells); None for a formula that computes."""
    while type(expr) is Paren:
        expr = expr.inner  # type: ignore[attr-defined]
    if type(expr) is Ref:
        return [(expr.sheet, expr.row, expr.col)]  # type: ignore[attr-defined]
    if type(expr) is not Call or expr.name not in SELECTIONS:  # type: ignore[attr-defined]
        return None
    cells = []
    for arg in expr.args:  # type: ignore[attr-defined]
        if type(arg) is Ref:
            cells.append((arg.sheet, arg.row, arg.col))
        elif type(arg) is Range:
            r1, c1, r2, c2 = arg.bounds()
            cells += [(arg.sheet, r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        else:
            return None
    return cells


class RoundingLevel:
    """Which formula cells of a model are at rounding level for a tolerance `rel`:
    a cell whose value is no larger than its allowance (how far it may move when
    everything it reads moves by `rel`) carries no digit to compare relatively, as a
    relative difference of two nearly equal numbers does. A copy, or the MAX or MIN,
    of such cells is at rounding level too. Call with a cell: its allowance, or None."""

    def __init__(self, wb: Workbook, results: object, rel: float) -> None:
        self.wb, self.ctx = wb, Perturbed(results, rel)
        self.known: dict[tuple[str, int, int], float | None] = {}

    def __call__(self, sheet: str, row: int, col: int, depth: int = 0) -> float | None:
        key = (sheet, row, col)
        if key not in self.known:
            self.known[key] = self._level(sheet, row, col, depth)
        return self.known[key]

    def _level(self, sheet: str, row: int, col: int, depth: int) -> float | None:
        value = self.ctx.cell(sheet, row, col)
        cell = self.wb[sheet].cell(row, col) if sheet in self.wb.sheets else None
        if type(value) is not float or cell is None or not isinstance(cell.content, Expr):
            return None
        picked = _selected(cell.content)
        if picked is not None and depth < COPY_DEPTH:
            limit = max((self._read(*at, depth) for at in picked), default=0.0)
        else:
            limit = allowance(cell.content, self.ctx)
        return limit if 0.0 < limit < math.inf and abs(value) <= limit else None

    def _read(self, sheet: str, row: int, col: int, depth: int) -> float:
        """How far a cell a selection reads may be off: its own allowance when it is
        at rounding level, else the tolerance."""
        level = self(sheet, row, col, depth + 1)
        return (
            level
            if level is not None
            else self.ctx.input_rel * _mag(self.ctx.cell(sheet, row, col))
        )
