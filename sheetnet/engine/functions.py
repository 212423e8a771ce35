"""Excel's worksheet functions, one plain Python function each.

Arguments arrive evaluated: a scalar Value, or a Grid for a range. Errors
propagate as values. Where Excel has a quirk, the docstring says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .errors import DIV0, NA, NUM, REF, VALUE, ExcelError
from .semantics import Grid, Value, compare, finite, power, to_number

Arg = Value | Grid


def _number_arg(v: Arg) -> float | ExcelError:
    if isinstance(v, Grid):
        if v.rows * v.cols != 1:
            return VALUE
        v = v.values[0]
    return to_number(v)


def _numbers(args: tuple[Arg, ...]) -> Iterator[float | ExcelError]:
    """The numbers SUM-like functions see: in ranges, only numbers (text, logicals
    and empty cells are skipped); typed directly, any scalar that coerces."""
    for arg in args:
        if isinstance(arg, Grid):
            for v in arg.values:
                t = type(v)
                if t is float or t is ExcelError:
                    yield v  # type: ignore[misc]
        else:
            yield to_number(arg)


def _unary(fn: Callable[[float], Value]) -> Callable[[Arg], Value]:
    def wrapped(x: Arg) -> Value:
        x = _number_arg(x)
        return x if type(x) is ExcelError else fn(x)  # type: ignore[arg-type]

    return wrapped


def _exp(x: float) -> Value:
    """EXP: overflow (x above about 709.78) is #NUM!."""
    try:
        return finite(math.exp(x))
    except OverflowError:
        return NUM


def _ln(x: float) -> Value:
    """LN: natural log; zero or negative is #NUM!."""
    return math.log(x) if x > 0.0 else NUM


def _sqrt(x: float) -> Value:
    """SQRT: negative is #NUM!."""
    return math.sqrt(x) if x >= 0.0 else NUM


def LOG(x: Arg, base: Arg = 10.0) -> Value:
    """LOG: base 10 by default (not e, unlike numpy and PyTorch); base 1 is #DIV/0!."""
    x, base = _number_arg(x), _number_arg(base)
    if type(x) is ExcelError:
        return x
    if type(base) is ExcelError:
        return base
    if x <= 0.0 or base <= 0.0:  # type: ignore[operator]
        return NUM
    if base == 10.0:
        return math.log10(x)  # type: ignore[arg-type]
    if base == 1.0:
        return DIV0
    return finite(math.log(x) / math.log(base))  # type: ignore[arg-type]


def SUM(*args: Arg) -> Value:
    total = 0.0
    for v in _numbers(args):
        if type(v) is ExcelError:
            return v
        total += v  # type: ignore[operator]
    return finite(total)


def SUMSQ(*args: Arg) -> Value:
    total = 0.0
    for v in _numbers(args):
        if type(v) is ExcelError:
            return v
        total += v * v  # type: ignore[operator]
    return finite(total)


def COUNT(*args: Arg) -> Value:
    """COUNT: how many numbers; errors and text are not counted, not propagated."""
    n = 0
    for arg in args:
        values = arg.values if isinstance(arg, Grid) else [arg]
        for v in values:
            if type(v) is float or (not isinstance(arg, Grid) and type(to_number(v)) is float):
                n += 1
    return float(n)


def AVERAGE(*args: Arg) -> Value:
    total, n = 0.0, 0
    for v in _numbers(args):
        if type(v) is ExcelError:
            return v
        total += v  # type: ignore[operator]
        n += 1
    return finite(total / n) if n else DIV0


def _extreme(pick: Callable[[float, float], float], args: tuple[Arg, ...]) -> Value:
    """MAX/MIN: 0 when there are no numbers at all."""
    best: float | None = None
    for v in _numbers(args):
        if type(v) is ExcelError:
            return v
        best = v if best is None else pick(best, v)  # type: ignore[arg-type]
    return 0.0 if best is None else best


def MAX(*args: Arg) -> Value:
    return _extreme(max, args)


def MIN(*args: Arg) -> Value:
    return _extreme(min, args)


def SUMPRODUCT(*args: Arg) -> Value:
    """SUMPRODUCT: arrays of one shape; non-numbers count as 0, errors propagate.

    Its arguments are arrays: `SUMPRODUCT(A1:A3*2)` multiplies each element first
    (see Expr.evaluate_array), so comparisons and arithmetic on ranges work there.
    """
    grids = [a if isinstance(a, Grid) else Grid(1, 1, [a]) for a in args]
    shape = (grids[0].rows, grids[0].cols)
    if any((g.rows, g.cols) != shape for g in grids):
        return VALUE
    total = 0.0
    for cells in zip(*(g.values for g in grids)):
        product = 1.0
        for v in cells:
            if type(v) is ExcelError:
                return v
            product *= v if type(v) is float else 0.0  # type: ignore[operator]
        total += product
    return finite(total)


def MATCH(lookup: Arg, within: Arg, match_type: Arg = 1.0) -> Value:
    """MATCH: 1-based position in a one-row or one-column range.

    match_type 1 (the default) finds the largest value <= lookup, -1 the smallest
    value >= lookup, and among equal values the last one; 0 the first exact match
    (text case-insensitive). Excel does a binary search for 1 and -1, which agrees
    with this on sorted data; on unsorted data we keep this well-defined reading,
    which is also LibreOffice's answer on the lessons' ranges.
    """
    if isinstance(lookup, Grid):
        lookup = lookup.values[0] if lookup.rows * lookup.cols == 1 else VALUE
    kind = _number_arg(match_type)
    for v in (lookup, kind):
        if type(v) is ExcelError:
            return v
    if not isinstance(within, Grid) or min(within.rows, within.cols) != 1:
        return NA
    kind = -1.0 if kind < 0 else (1.0 if kind > 0 else 0.0)  # type: ignore[operator]
    best: int | None = None
    for i, v in enumerate(within.values):
        if v is None or type(v) is ExcelError or type(v) is not type(lookup):
            continue
        if kind == 0.0:
            if compare("=", v, lookup) is True:
                return float(i + 1)
            continue
        fits = compare("<=" if kind > 0 else ">=", v, lookup) is True
        if fits and (
            best is None or compare(">" if kind > 0 else "<", within.values[best], v) is not True
        ):
            best = i
    return NA if best is None else float(best + 1)


def INDEX(within: Arg, row: Arg, col: Arg | None = None) -> Value:
    """INDEX: the cell at (row, col), 1-based. Out of range is #REF!.

    For a one-row range Excel and LibreOffice read a single index as the column,
    Gnumeric as the row (#REF!): sheetnet's lessons always write both indexes,
    INDEX(range, row, column), which every application reads the same way (a
    test over every lesson's formulas holds them to it)."""
    if not isinstance(within, Grid):
        within = Grid(1, 1, [within])
    r = _number_arg(row)
    c = _number_arg(col) if col is not None else 0.0
    for v in (r, c):
        if type(v) is ExcelError:
            return v
    r, c = int(r), int(c)  # type: ignore[arg-type]
    if col is None and within.rows == 1:
        r, c = 1, r
    elif col is None:
        c = 1
    if within.cols == 1 and c == 0:
        c = 1
    if not (1 <= r <= within.rows and 1 <= c <= within.cols):
        return REF
    return within.at(r - 1, c - 1)


def _int(x: float) -> Value:
    """INT: rounds down, toward minus infinity (INT(-1.5) is -2)."""
    return float(math.floor(x))


def _cos(x: float) -> Value:
    return math.cos(x)


def PI() -> Value:
    return math.pi


def NA_() -> Value:
    """NA(): the #N/A error, which charts show as a gap."""
    return NA


def ABS(x: Arg) -> Value:
    x = _number_arg(x)
    return x if type(x) is ExcelError else abs(x)  # type: ignore[arg-type]


def ROUND(x: Arg, digits: Arg) -> Value:
    """ROUND: to `digits` decimals (negative: to tens, hundreds...), halves away from
    zero: ROUND(2.5,0) is 3, ROUND(-2.5,0) is -3, ROUND(1234.5,-2) is 1200.

    Excel rounds the number as it shows it, to 15 significant digits, not its exact
    binary value: 1.005 is stored as 1.00499999999999989..., yet ROUND(1.005,2) is
    1.01. So the 15-digit decimal is rounded, and the result is the double nearest
    that decimal (ROUND(0.1+0.2,15) is 0.3). A fractional `digits` is truncated toward
    zero (ROUND(2.567,1.9) rounds to 1 decimal). An integer rounded to decimals stays
    exactly as it is, even beyond 15 digits (as in LibreOffice). A result too large
    for a double (ROUND(1.7E308,-308)) is #NUM!."""
    x, digits = _number_arg(x), _number_arg(digits)
    if type(x) is ExcelError:
        return x
    if type(digits) is ExcelError:
        return digits
    # beyond +-400 the answer no longer changes: every double has its 15 digits
    # between 1E308 and 1E-338
    d = max(-400, min(400, math.trunc(digits)))  # type: ignore[arg-type]
    if d >= 0 and x.is_integer():  # type: ignore[union-attr]
        return x
    shown = Decimal(f"{x:.15g}")
    if shown.as_tuple().exponent < -d:  # type: ignore[operator]
        shown = shown.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
    return finite(float(shown) + 0.0)  # + 0.0: ROUND(-0.4,0) is 0, never -0


def POWER(x: Arg, y: Arg) -> Value:
    """POWER(x,y): exactly x^y (0^0 is #NUM!, 0^negative #DIV/0!, a negative number
    to a fractional power #NUM!, overflow #NUM!, underflow 0; LibreOffice differs on
    each as it does for ^, and gives #NUM! for an underflow)."""
    return power(_number_arg(x), _number_arg(y))


def _log10(x: float) -> Value:
    """LOG10: zero or negative is #NUM!."""
    return math.log10(x) if x > 0.0 else NUM


def _tanh(x: float) -> Value:
    """TANH: never overflows (+-1 for large x)."""
    return math.tanh(x)


def _extent(arg: Arg, rows: bool) -> Value:
    """ROWS/COLUMNS: the size of a range, whatever its cells hold; any other value,
    an array of one, counts 1. An error value propagates: in Excel a one-cell
    reference to an error cell counts 1, but by the time the function sees its
    argument the engine cannot tell a reference to a cell from the cell's value
    (write A1:A1 for a one-cell range). LibreOffice refuses a value that is not a
    reference (ROWS(5) is #VALUE! there)."""
    if isinstance(arg, Grid):
        return float(arg.rows if rows else arg.cols)
    return arg if type(arg) is ExcelError else 1.0


def ROWS(arg: Arg) -> Value:
    return _extent(arg, rows=True)


def COLUMNS(arg: Arg) -> Value:
    return _extent(arg, rows=False)


@dataclass(frozen=True)
class Function:
    """A worksheet function, everything about it in one place: its name (the parser's
    and the formula's), its Excel semantics (`impl`), its plain-float form for the
    compiled fast path, how its result's error follows its argument's (for local
    agreement, verify/local.py), and whether every application reads it alike."""

    name: str
    impl: Callable[..., Value]
    min_args: int
    max_args: int | None
    array_args: bool = False  # its arguments are evaluated as arrays (SUMPRODUCT)
    # a reference argument is a range, even of one cell: SUM(A1) skips text in A1 as
    # SUM(A1:A2) does, where SUM("7") counts the typed text
    ranges: bool = False
    elementwise: bool = False  # inside an array argument, applies to each element
    # the compiled form of a one-argument call: plain floats in and out, raising
    # (ValueError, OverflowError) wherever Excel's answer is an error, so that row
    # goes to `impl` instead
    fast: Callable[[float], float] | None = None
    # |f'(x)| from x and |f(x)|: a one-argument call's error is slope * its input's
    slope: Callable[[float, float], float] | None = None
    # Excel, LibreOffice and Gnumeric answer alike (lessons use only these)
    portable: bool = True


def _inverse(x: float) -> float:
    return 1.0 / abs(x) if x else math.inf


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("EXP", _unary(_exp), 1, 1, elementwise=True, fast=math.exp, slope=lambda x, r: r),
        Function(
            "LN", _unary(_ln), 1, 1, elementwise=True, fast=math.log, slope=lambda x, r: _inverse(x)
        ),
        Function("LOG", LOG, 1, 2, fast=math.log10, slope=lambda x, r: _inverse(x) / math.log(10)),
        Function(
            "SQRT",
            _unary(_sqrt),
            1,
            1,
            elementwise=True,
            fast=math.sqrt,
            slope=lambda x, r: 1 / (2 * r) if r else math.inf,
        ),
        Function("ABS", ABS, 1, 1, elementwise=True, fast=abs, slope=lambda x, r: 1.0),
        Function("INT", _unary(_int), 1, 1, elementwise=True, fast=lambda x: float(math.floor(x))),
        Function("COS", _unary(_cos), 1, 1, elementwise=True, fast=math.cos),
        Function(
            "LOG10",
            _unary(_log10),
            1,
            1,
            elementwise=True,
            fast=math.log10,
            slope=lambda x, r: _inverse(x) / math.log(10),
        ),
        Function(
            "TANH",
            _unary(_tanh),
            1,
            1,
            elementwise=True,
            fast=math.tanh,
            slope=lambda x, r: 1.0 - r * r,
        ),
        Function("ROUND", ROUND, 2, 2),
        # POWER: LibreOffice and Gnumeric differ from Excel exactly as for ^ (0^0, a
        # negative number to a fractional power, underflow); the lessons write ^
        Function("POWER", POWER, 2, 2, portable=False),
        Function("ROWS", ROWS, 1, 1, ranges=True),
        Function("COLUMNS", COLUMNS, 1, 1, ranges=True),
        Function("PI", PI, 0, 0),
        Function("NA", NA_, 0, 0),
        Function("SUM", SUM, 1, None, ranges=True),
        Function("SUMSQ", SUMSQ, 1, None, ranges=True),
        Function("SUMPRODUCT", SUMPRODUCT, 1, None, array_args=True),
        Function("COUNT", COUNT, 1, None, ranges=True),
        Function("AVERAGE", AVERAGE, 1, None, ranges=True),
        Function("MAX", MAX, 1, None, ranges=True),
        Function("MIN", MIN, 1, None, ranges=True),
        Function("MATCH", MATCH, 2, 3),
        Function("INDEX", INDEX, 2, 3),
    )
}
# IF is not here: it evaluates only the branch it takes, so the expression tree
# handles it (see expr.If).
