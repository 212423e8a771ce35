"""Excel's value semantics, written down once: coercion, operators, comparisons.

A value is a float, a str, a bool, an ExcelError, or None (an empty cell).
Every arithmetic result that is not a finite double becomes #NUM!, as in Excel.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .errors import DIV0, NA, NUM, VALUE, ExcelError

Value = float | str | bool | ExcelError | None


class Grid:
    """The value of a range: its cells' values, row by row."""

    __slots__ = ("rows", "cols", "values")

    def __init__(self, rows: int, cols: int, values: list[Value]) -> None:
        self.rows, self.cols, self.values = rows, cols, values

    def at(self, row: int, col: int) -> Value:
        return self.values[row * self.cols + col]


def stored(x: float) -> float:
    """A number as an .xlsx number cell stores it (16 significant digits): the engine,
    the references and the digests compute with exactly what a spreadsheet reads back."""
    return float(f"{x:.16G}")


def to_number(v: Value) -> float | ExcelError:
    """Coerce a scalar for arithmetic: empty is 0, TRUE is 1, numeric text parses."""
    t = type(v)
    if t is float:
        return v  # type: ignore[return-value]
    if t is bool or t is int:
        return float(v)  # type: ignore[arg-type]
    if v is None:
        return 0.0
    if t is ExcelError:
        return v  # type: ignore[return-value]
    if t is str:
        try:
            x = float(v.strip())  # type: ignore[union-attr]
        except ValueError:
            return VALUE
        return x if math.isfinite(x) else VALUE
    return VALUE


def to_bool(v: Value) -> bool | ExcelError:
    """Coerce a condition: numbers are TRUE when non-zero, text must be TRUE/FALSE."""
    t = type(v)
    if t is bool:
        return v  # type: ignore[return-value]
    if t is float or t is int:
        return v != 0
    if v is None:
        return False
    if t is ExcelError:
        return v  # type: ignore[return-value]
    upper = v.upper()  # type: ignore[union-attr]
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    return VALUE


def finite(x: float) -> float | ExcelError:
    """Excel has no infinities or NaN: an overflowed result is #NUM!."""
    return x if x - x == 0.0 else NUM


def _numeric(fn: Callable[[float, float], Value]) -> Callable[[Value, Value], Value]:
    """A binary operator on numbers: both operands coerced, the left error first."""

    def op(a: Value, b: Value) -> Value:
        x, y = to_number(a), to_number(b)
        if type(x) is ExcelError:
            return x
        if type(y) is ExcelError:
            return y
        return fn(x, y)  # type: ignore[arg-type]

    op.__doc__ = fn.__doc__
    return op


@_numeric
def add(a: float, b: float) -> Value:
    return finite(a + b)


@_numeric
def sub(a: float, b: float) -> Value:
    return finite(a - b)


@_numeric
def mul(a: float, b: float) -> Value:
    return finite(a * b)


@_numeric
def div(a: float, b: float) -> Value:
    """a/b: dividing by zero is #DIV/0!."""
    return DIV0 if b == 0.0 else finite(a / b)


@_numeric
def power(a: float, b: float) -> Value:
    """a^b. Excel: 0^0 is #NUM!, 0^negative is #DIV/0!, negative^fraction is #NUM!."""
    if a == 0.0 and b <= 0.0:
        return NUM if b == 0.0 else DIV0
    if a < 0.0 and not b.is_integer():
        return NUM
    try:
        return finite(math.pow(a, b))
    except (OverflowError, ValueError):
        return NUM


def negate(a: Value) -> Value:
    a = to_number(a)
    if type(a) is ExcelError:
        return a
    return -a  # type: ignore[operator]


def _rank(v: Value) -> int:
    """Excel orders numbers < text < logicals when comparing different types."""
    t = type(v)
    if t is bool:
        return 2
    if t is str:
        return 1
    return 0


def compare(op: str, a: Value, b: Value) -> Value:
    """=, <>, <, >, <=, >= with Excel's rules: text case-insensitive, empty as 0 or ''."""
    if type(a) is ExcelError:
        return a
    if type(b) is ExcelError:
        return b
    if a is None:
        a = "" if type(b) is str else (False if type(b) is bool else 0.0)
    if b is None:
        b = "" if type(a) is str else (False if type(a) is bool else 0.0)
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        x, y = ra, rb
    elif ra == 1:
        x, y = a.lower(), b.lower()  # type: ignore[union-attr]
    else:
        x, y = float(a), float(b)  # type: ignore[arg-type]
    if op == "=":
        return x == y
    if op == "<>":
        return x != y
    if op == "<":
        return x < y  # type: ignore[operator]
    if op == ">":
        return x > y  # type: ignore[operator]
    if op == "<=":
        return x <= y  # type: ignore[operator]
    return x >= y  # type: ignore[operator]


def elementwise(
    op: Callable[[Value, Value], Value], a: Value | Grid, b: Value | Grid
) -> Value | Grid:
    """`op` on arrays, element by element, as Excel does inside SUMPRODUCT.

    A single value or a one-row/one-column array is repeated along the other
    dimension; where two sizes differ and neither is 1, the extra elements are #N/A.
    """
    if not isinstance(a, Grid) and not isinstance(b, Grid):
        return op(a, b)
    ga = a if isinstance(a, Grid) else Grid(1, 1, [a])
    gb = b if isinstance(b, Grid) else Grid(1, 1, [b])
    rows, cols = max(ga.rows, gb.rows), max(ga.cols, gb.cols)
    out: list[Value] = []
    for i in range(rows):
        for j in range(cols):
            x, y = _element(ga, i, j), _element(gb, i, j)
            out.append(x if x is NA else y if y is NA else op(x, y))
    return Grid(rows, cols, out)


def _element(g: Grid, i: int, j: int) -> Value:
    r = 0 if g.rows == 1 else i
    c = 0 if g.cols == 1 else j
    return g.values[r * g.cols + c] if r < g.rows and c < g.cols else NA


def elementwise1(fn: Callable[[Value], Value], a: Value | Grid) -> Value | Grid:
    """A one-argument function on every element of an array."""
    if isinstance(a, Grid):
        return Grid(a.rows, a.cols, [fn(v) for v in a.values])
    return fn(a)


def to_text(v: Value) -> str | ExcelError:
    """A value as the `&` operator sees it: numbers in Excel's General form (up to 15
    significant digits, integers without a point), TRUE/FALSE, empty as ''."""
    t = type(v)
    if t is str:
        return v  # type: ignore[return-value]
    if v is None:
        return ""
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is ExcelError:
        return v  # type: ignore[return-value]
    x = float(v)  # type: ignore[arg-type]
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.15G}"
    if "E" in text:
        mantissa, _, power_ = text.partition("E")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        sign = "-" if power_.startswith("-") else "+"
        return f"{mantissa}E{sign}{power_.lstrip('+-').zfill(2)}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def concat(a: Value, b: Value) -> Value:
    """a & b: both as text (the left error first)."""
    x, y = to_text(a), to_text(b)
    if type(x) is ExcelError:
        return x
    if type(y) is ExcelError:
        return y
    return x + y  # type: ignore[operator]


def percent(a: Value) -> Value:
    """a%: a divided by 100."""
    x = to_number(a)
    return x if type(x) is ExcelError else x / 100.0  # type: ignore[operator]


BINARY = {"+": add, "-": sub, "*": mul, "/": div, "^": power, "&": concat}
COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")
