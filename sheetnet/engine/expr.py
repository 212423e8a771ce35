"""Cell expressions: each node evaluates itself (Excel semantics) and renders
itself as Excel formula text, side by side, so value and formula cannot drift.

Python operators build trees, so lesson code reads like the math:
``pred = b + a * x`` where ``a``, ``b`` and ``x`` are cell references.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Protocol

from . import address, semantics
from .errors import VALUE, ExcelError
from .functions import FUNCTIONS
from .semantics import Grid, Value

# Excel's operator precedence, loosest first. Unary minus (and the postfix %) bind
# tighter than ^, so -2^2 is 4.
PREC_COMPARE, PREC_CONCAT, PREC_ADD, PREC_MUL, PREC_POW, PREC_NEG, PREC_ATOM = range(1, 8)
_PREC = {"+": PREC_ADD, "-": PREC_ADD, "*": PREC_MUL, "/": PREC_MUL, "^": PREC_POW}
_PREC["&"] = PREC_CONCAT
_PREC.update({op: PREC_COMPARE for op in semantics.COMPARISONS})


class Context(Protocol):
    """What an expression needs from the workbook while it evaluates."""

    def cell(self, sheet: str, row: int, col: int) -> Value: ...

    def grid(self, sheet: str, row1: int, col1: int, row2: int, col2: int) -> Grid: ...


def lift(x: object) -> Expr:
    """Wrap a Python constant as a Const node; leave expressions alone."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, bool | str | ExcelError):
        return Const(x)
    if isinstance(x, int | float):
        return Const(float(x))
    raise TypeError(f"cannot use {type(x).__name__} in a cell expression")


def _scalar(v: Value | Grid) -> Value:
    """A range used where one value belongs is #VALUE! unless it is one cell."""
    if isinstance(v, Grid):
        return v.values[0] if v.rows * v.cols == 1 else VALUE
    return v


def _as_range(arg: Expr, ctx: Context) -> Value | Grid:
    """A one-cell reference read as the one-cell range it names."""
    if type(arg) is Ref:
        return ctx.grid(arg.sheet, arg.row, arg.col, arg.row, arg.col)
    return arg.evaluate(ctx)


class Expr:
    """Base of all nodes."""

    __slots__ = ()
    prec = PREC_ATOM

    def evaluate(self, ctx: Context) -> Value | Grid:
        raise NotImplementedError

    def render(self, host: str, marked: bool = False) -> str:
        """Formula text without the leading '=', as seen from sheet `host`.

        With `marked`, each relative row number is written as NUL, 0-based row, NUL,
        and each relative column as SOH, 0-based column, SOH, so a filled formula is
        rendered once and its rows and columns substituted per cell.
        """
        raise NotImplementedError

    def shift(self, rows: int, cols: int = 0) -> Expr:
        """The expression filled down by `rows` and right by `cols`: relative
        references move, absolute ones stay (Excel's fill and copy)."""
        raise NotImplementedError

    def evaluate_array(self, ctx: Context) -> Value | Grid:
        """The value where Excel evaluates element by element (inside SUMPRODUCT):
        a range stays a Grid and operators apply to each element."""
        return self.evaluate(ctx)

    def formula(self, host: str) -> str:
        return "=" + self.render(host)

    def children(self) -> tuple[Expr, ...]:
        return ()

    def _own(self) -> tuple:
        """What a node holds besides its children (an operator, a function's name)."""
        return ()

    def matches(self, base: Expr, rows: int, cols: int = 0) -> bool:
        """Whether this is `base` shifted by (rows, cols): ``base.shift(rows, cols) ==
        self``, without building the shifted copy (fills check every cell this way)."""
        if type(self) is not type(base) or self._own() != base._own():
            return False
        mine, theirs = self.children(), base.children()
        return len(mine) == len(theirs) and all(
            a.matches(b, rows, cols) for a, b in zip(mine, theirs)
        )

    def walk(self) -> Iterator[Expr]:
        yield self
        for child in self.children():
            yield from child.walk()

    def __add__(self, other: object) -> Expr:
        return BinOp("+", self, lift(other))

    def __radd__(self, other: object) -> Expr:
        return BinOp("+", lift(other), self)

    def __sub__(self, other: object) -> Expr:
        return BinOp("-", self, lift(other))

    def __rsub__(self, other: object) -> Expr:
        return BinOp("-", lift(other), self)

    def __mul__(self, other: object) -> Expr:
        return BinOp("*", self, lift(other))

    def __rmul__(self, other: object) -> Expr:
        return BinOp("*", lift(other), self)

    def __truediv__(self, other: object) -> Expr:
        return BinOp("/", self, lift(other))

    def __rtruediv__(self, other: object) -> Expr:
        return BinOp("/", lift(other), self)

    def __pow__(self, other: object) -> Expr:
        return BinOp("^", self, lift(other))

    def __rpow__(self, other: object) -> Expr:
        return BinOp("^", lift(other), self)

    def __neg__(self) -> Expr:
        return Neg(self)

    def __lt__(self, other: object) -> Expr:
        return BinOp("<", self, lift(other))

    def __le__(self, other: object) -> Expr:
        return BinOp("<=", self, lift(other))

    def __gt__(self, other: object) -> Expr:
        return BinOp(">", self, lift(other))

    def __ge__(self, other: object) -> Expr:
        return BinOp(">=", self, lift(other))

    def eq(self, other: object) -> Expr:
        """Excel's `=` comparison (Python's == stays structural)."""
        return BinOp("=", self, lift(other))

    def ne(self, other: object) -> Expr:
        return BinOp("<>", self, lift(other))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def _key(self) -> tuple:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ={self.render('')}>"


def cell_renderer(expr: Expr, host: str) -> Callable[[int, int], str]:
    """Formula text (with '=') of `expr` filled down n rows and right m columns:
    the formula is rendered once, into an f-string that substitutes both."""
    pieces = re.split("([\0\1])", expr.render(host, marked=True))
    body, mark = [], None
    for piece in pieces:
        if piece in ("\0", "\1"):
            mark = None if mark == piece else piece
        elif mark == "\0":
            body.append(f"{{n + {int(piece) + 1}}}")
        elif mark == "\1":
            body.append(f"{{_L[m + {int(piece)}]}}")
        else:
            body.append(piece.replace("{", "{{").replace("}", "}}"))
    return eval(f"lambda n, m=0: f{('=' + ''.join(body))!r}", {"_L": address.LETTERS})


def row_renderer(expr: Expr, host: str) -> Callable[[int], str]:
    """Formula text of `expr` filled down by n rows (see cell_renderer)."""
    return cell_renderer(expr, host)


def render_number(x: float) -> str:
    """Shortest text that reads back as the same double; integers without '.0'."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x).upper().replace("E+", "E")


class Const(Expr):
    __slots__ = ("value",)

    def __init__(self, value: float | str | bool | ExcelError) -> None:
        self.value = value

    @property
    def prec(self) -> int:  # type: ignore[override]
        v = self.value
        return PREC_NEG if type(v) is float and (v < 0 or str(v) == "-0.0") else PREC_ATOM

    def evaluate(self, ctx: Context) -> Value:
        return self.value

    def render(self, host: str, marked: bool = False) -> str:
        v = self.value
        if type(v) is bool:
            return "TRUE" if v else "FALSE"
        if type(v) is float:
            return render_number(v)
        if type(v) is ExcelError:
            return v.code
        return '"' + str(v).replace('"', '""') + '"'

    def shift(self, rows: int, cols: int = 0) -> Expr:
        return self

    def matches(self, base: Expr, rows: int, cols: int = 0) -> bool:
        return type(base) is Const and self._key() == base._key()

    def _key(self) -> tuple:
        return (type(self.value).__name__, self.value)


class Ref(Expr):
    """A reference to one cell, relative or absolute, on any sheet."""

    __slots__ = ("sheet", "row", "col", "abs_row", "abs_col")

    def __init__(
        self, sheet: str, row: int, col: int, abs_row: bool = False, abs_col: bool = False
    ) -> None:
        self.sheet, self.row, self.col = sheet, row, col
        self.abs_row, self.abs_col = abs_row, abs_col

    def evaluate(self, ctx: Context) -> Value:
        return ctx.cell(self.sheet, self.row, self.col)

    def render(self, host: str, marked: bool = False) -> str:
        if marked:
            col = f"\1{self.col}\1" if not self.abs_col else "$" + address.col_letters(self.col)
            row = f"\0{self.row}\0" if not self.abs_row else f"${self.row + 1}"
            text = col + row
        else:
            text = address.render(self.row, self.col, self.abs_row, self.abs_col)
        return text if self.sheet == host else f"{address.quote_sheet(self.sheet)}!{text}"

    def shift(self, rows: int, cols: int = 0) -> Ref:
        rows = 0 if self.abs_row else rows
        cols = 0 if self.abs_col else cols
        if not rows and not cols:
            return self
        return Ref(self.sheet, self.row + rows, self.col + cols, self.abs_row, self.abs_col)

    def matches(self, base: Expr, rows: int, cols: int = 0) -> bool:
        return (
            type(base) is Ref
            and self.abs_row == base.abs_row
            and self.abs_col == base.abs_col
            and self.row == base.row + (0 if base.abs_row else rows)
            and self.col == base.col + (0 if base.abs_col else cols)
            and self.sheet == base.sheet
        )

    def fixed(self) -> Ref:
        """The same cell made absolute ($A$1), so every fill keeps it."""
        return Ref(self.sheet, self.row, self.col, True, True)

    def fixed_row(self) -> Ref:
        """The same cell with its row made absolute (A$1): a fill down keeps it."""
        return Ref(self.sheet, self.row, self.col, True, self.abs_col)

    def fixed_col(self) -> Ref:
        """The same cell with its column made absolute ($A1): a fill across keeps it."""
        return Ref(self.sheet, self.row, self.col, self.abs_row, True)

    def to(self, end: Ref) -> Range:
        """The range from this cell to `end` (same sheet): ``c.ref('B3').to(c.ref('B7'))``."""
        if end.sheet != self.sheet:
            raise ValueError("a range lies on one sheet")
        return Range(self, end)

    def _key(self) -> tuple:
        return (self.sheet, self.row, self.col, self.abs_row, self.abs_col)


class Range(Expr):
    """A rectangular range; evaluates to a Grid for the functions that take one."""

    __slots__ = ("first", "last")

    def __init__(self, first: Ref, last: Ref) -> None:
        self.first, self.last = first, last

    @property
    def sheet(self) -> str:
        return self.first.sheet

    def bounds(self) -> tuple[int, int, int, int]:
        a, b = self.first, self.last
        return min(a.row, b.row), min(a.col, b.col), max(a.row, b.row), max(a.col, b.col)

    def evaluate(self, ctx: Context) -> Grid:
        return ctx.grid(self.sheet, *self.bounds())

    def render(self, host: str, marked: bool = False) -> str:
        last = self.last.render(self.last.sheet, marked)
        return f"{self.first.render(host, marked)}:{last}"

    def shift(self, rows: int, cols: int = 0) -> Range:
        return Range(self.first.shift(rows, cols), self.last.shift(rows, cols))

    def matches(self, base: Expr, rows: int, cols: int = 0) -> bool:
        return (
            type(base) is Range
            and self.first.matches(base.first, rows, cols)
            and self.last.matches(base.last, rows, cols)
        )

    def fixed(self) -> Range:
        """The range made absolute ($A$1:$B$2)."""
        return Range(self.first.fixed(), self.last.fixed())

    def fixed_row(self) -> Range:
        """The range with its rows made absolute (A$1:B$2)."""
        return Range(self.first.fixed_row(), self.last.fixed_row())

    def fixed_col(self) -> Range:
        """The range with its columns made absolute ($A1:$B2)."""
        return Range(self.first.fixed_col(), self.last.fixed_col())

    @property
    def shape(self) -> tuple[int, int]:
        r1, c1, r2, c2 = self.bounds()
        return r2 - r1 + 1, c2 - c1 + 1

    def _key(self) -> tuple:
        return (self.first._key(), self.last._key())


class BinOp(Expr):
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        if op not in _PREC:
            raise ValueError(f"unknown operator {op!r}")
        self.op, self.left, self.right = op, left, right

    @property
    def prec(self) -> int:  # type: ignore[override]
        return _PREC[self.op]

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def evaluate(self, ctx: Context) -> Value:
        a = _scalar(self.left.evaluate(ctx))
        b = _scalar(self.right.evaluate(ctx))
        if self.prec == PREC_COMPARE:
            return semantics.compare(self.op, a, b)
        return semantics.BINARY[self.op](a, b)

    def render(self, host: str, marked: bool = False) -> str:
        # Excel's binary operators are all left-associative: a right operand of
        # equal precedence needs parentheses (a-(b-c)), a left one does not.
        left = self.left.render(host, marked)
        if self.left.prec < self.prec:
            left = f"({left})"
        right = self.right.render(host, marked)
        if self.right.prec <= self.prec or (self.op in "+-" and right.startswith("-")):
            right = f"({right})"
        return f"{left}{self.op}{right}"

    def evaluate_array(self, ctx: Context) -> Value | Grid:
        a, b = self.left.evaluate_array(ctx), self.right.evaluate_array(ctx)
        if self.prec == PREC_COMPARE:
            op = self.op
            return semantics.elementwise(lambda x, y: semantics.compare(op, x, y), a, b)
        return semantics.elementwise(semantics.BINARY[self.op], a, b)

    def shift(self, rows: int, cols: int = 0) -> Expr:
        return BinOp(self.op, self.left.shift(rows, cols), self.right.shift(rows, cols))

    def _key(self) -> tuple:
        return (self.op, self.left, self.right)

    def _own(self) -> tuple:
        return (self.op,)


class _Unary(Expr):
    """An operator on one operand, binding tighter than ^: -x and x%."""

    __slots__ = ("operand",)
    prec = PREC_NEG
    apply: Callable[[Value], Value]  # its Excel semantics, on one value

    def __init__(self, operand: Expr) -> None:
        self.operand = operand

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def evaluate(self, ctx: Context) -> Value:
        return type(self).apply(_scalar(self.operand.evaluate(ctx)))

    def evaluate_array(self, ctx: Context) -> Value | Grid:
        return semantics.elementwise1(type(self).apply, self.operand.evaluate_array(ctx))

    def shift(self, rows: int, cols: int = 0) -> Expr:
        return type(self)(self.operand.shift(rows, cols))

    def _bracketed(self, host: str, marked: bool) -> tuple[str, bool]:
        return self.operand.render(host, marked), self.operand.prec < PREC_NEG

    def _key(self) -> tuple:
        return (self.operand,)


class Neg(_Unary):
    __slots__ = ()
    apply = staticmethod(semantics.negate)

    def render(self, host: str, marked: bool = False) -> str:
        inner, low = self._bracketed(host, marked)
        return f"-({inner})" if low else f"-{inner}"


class Percent(_Unary):
    """x% (x divided by 100), as a learner may type a rate: ``=5%``."""

    __slots__ = ()
    apply = staticmethod(semantics.percent)

    def render(self, host: str, marked: bool = False) -> str:
        inner, low = self._bracketed(host, marked)
        return f"({inner})%" if low else f"{inner}%"


class Paren(Expr):
    """Parentheses an author wrote, kept in the formula text; the value is the inner one."""

    __slots__ = ("inner",)

    def __init__(self, inner: object) -> None:
        self.inner = lift(inner)

    def children(self) -> tuple[Expr, ...]:
        return (self.inner,)

    def evaluate(self, ctx: Context) -> Value | Grid:
        return self.inner.evaluate(ctx)

    def render(self, host: str, marked: bool = False) -> str:
        return f"({self.inner.render(host, marked)})"

    def evaluate_array(self, ctx: Context) -> Value | Grid:
        return self.inner.evaluate_array(ctx)

    def shift(self, rows: int, cols: int = 0) -> Expr:
        return Paren(self.inner.shift(rows, cols))

    def _key(self) -> tuple:
        return (self.inner,)


class Call(Expr):
    """A worksheet function call, e.g. ``Call('EXP', x)``; see functions.FUNCTIONS."""

    __slots__ = ("name", "args")

    def __init__(self, name: str, *args: object) -> None:
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise ValueError(f"unsupported function {name}")
        if len(args) < fn.min_args or (fn.max_args is not None and len(args) > fn.max_args):
            raise ValueError(f"{name} takes {fn.min_args}..{fn.max_args} arguments")
        self.name, self.args = name, tuple(lift(a) for a in args)

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def evaluate(self, ctx: Context) -> Value:
        fn = FUNCTIONS[self.name]
        if fn.array_args:  # SUMPRODUCT: its arguments are arrays, element by element
            return fn.impl(*(a.evaluate_array(ctx) for a in self.args))
        if fn.ranges:
            return fn.impl(*(_as_range(a, ctx) for a in self.args))
        return fn.impl(*(a.evaluate(ctx) for a in self.args))

    def evaluate_array(self, ctx: Context) -> Value | Grid:
        fn = FUNCTIONS[self.name]
        if not fn.elementwise:
            return self.evaluate(ctx)
        return semantics.elementwise1(fn.impl, self.args[0].evaluate_array(ctx))

    def render(self, host: str, marked: bool = False) -> str:
        return f"{self.name}({','.join(a.render(host, marked) for a in self.args)})"

    def shift(self, rows: int, cols: int = 0) -> Expr:
        return Call(self.name, *(a.shift(rows, cols) for a in self.args))

    def _key(self) -> tuple:
        return (self.name, self.args)

    def _own(self) -> tuple:
        return (self.name,)


class If(Expr):
    """IF(condition, then, else): only the branch taken is evaluated, as in Excel."""

    __slots__ = ("cond", "then", "other")

    def __init__(self, cond: object, then: object, other: object = False) -> None:
        self.cond, self.then, self.other = lift(cond), lift(then), lift(other)

    def children(self) -> tuple[Expr, ...]:
        return (self.cond, self.then, self.other)

    def evaluate(self, ctx: Context) -> Value:
        cond = semantics.to_bool(_scalar(self.cond.evaluate(ctx)))
        if type(cond) is ExcelError:
            return cond
        return _scalar((self.then if cond else self.other).evaluate(ctx))

    def render(self, host: str, marked: bool = False) -> str:
        parts = (self.cond, self.then, self.other)
        return f"IF({','.join(p.render(host, marked) for p in parts)})"

    def shift(self, rows: int, cols: int = 0) -> Expr:
        return If(*(p.shift(rows, cols) for p in (self.cond, self.then, self.other)))

    def _key(self) -> tuple:
        return (self.cond, self.then, self.other)


def _function(name: str) -> Callable[..., Expr]:
    def build(*args: object) -> Expr:
        return Call(name, *args)

    build.__name__ = name.lower()
    build.__doc__ = f"Excel's {name}(...) as an expression."
    return build


exp = _function("EXP")
ln = _function("LN")
log = _function("LOG")
sqrt = _function("SQRT")
abs_ = _function("ABS")
sum_ = _function("SUM")
sumsq = _function("SUMSQ")
sumproduct = _function("SUMPRODUCT")
count = _function("COUNT")
average = _function("AVERAGE")
max_ = _function("MAX")
min_ = _function("MIN")
match = _function("MATCH")
index = _function("INDEX")
int_ = _function("INT")
cos = _function("COS")
pi = _function("PI")
na = _function("NA")
round_ = _function("ROUND")
power = _function("POWER")
log10 = _function("LOG10")
tanh = _function("TANH")
rows = _function("ROWS")
columns = _function("COLUMNS")
