"""Fast path: a band of filled-down formulas compiled to one Python loop.

A band is the fills of one sheet that cover the same rows. Its formulas become
straight-line Python over the sheet's flat value list, one loop iteration per
row. The fast path only ever computes finite doubles: whenever a value is not a
plain float, an operation raises, or a result is not finite, the row is handed
back to the exact interpreter (expr.evaluate), which produces Excel's errors.
Both paths use the same math functions, so they agree to the bit.

Supported: numbers, references and ranges (relative or absolute, any sheet),
+ - * / ^, comparisons, unary minus, parentheses, IF, EXP, LN, LOG(x), SQRT, ABS,
SUM, MAX, MIN over ranges and numbers, SUMPRODUCT of same-shaped ranges, and
INDEX(range, row, column). Anything else leaves the band to the interpreter.
The helpers below repeat the interpreter's arithmetic in the same order (the
same running sum, the same pairwise max), so both paths agree to the bit.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .expr import BinOp, Call, Const, Expr, If, Neg, Paren, Range, Ref
from .functions import FUNCTIONS
from .workbook import Fill


class _Slow(Exception):
    """Leave this row to the interpreter."""


class Unsupported(Exception):
    """This band cannot take the fast path."""


def _fin(x: object) -> float:
    if type(x) is float and x - x == 0.0:
        return x
    raise _Slow


def _pow(a: object, b: object) -> float:
    """As semantics.power for finite doubles; the cases Excel makes errors go slow."""
    if type(a) is not float or type(b) is not float:
        raise _Slow
    if (a == 0.0 and b <= 0.0) or (a < 0.0 and not b.is_integer()):
        raise _Slow
    return math.pow(a, b)


def _num(x: object) -> float:
    if type(x) is float:
        return x
    raise _Slow


def _col(s: list, i: int, n: int, w: int) -> list:
    """n cells down a column from index i, on a sheet of width w."""
    v = s[i : i + (n - 1) * w + 1 : w]
    if len(v) != n:
        raise _Slow
    return v


def _row(s: list, i: int, n: int) -> list:
    v = s[i : i + n]
    if len(v) != n:
        raise _Slow
    return v


def _rect(s: list, i: int, rows: int, cols: int, w: int) -> list:
    v = [x for r in range(rows) for x in s[i + r * w : i + r * w + cols]]
    if len(v) != rows * cols:
        raise _Slow
    return v


def _sum(values: list) -> float:
    total = 0.0
    for v in values:
        if type(v) is not float:
            raise _Slow
        total += v
    return total


def _extreme(pick: Callable[[float, float], float], values: list) -> float:
    best = _fin(values[0])
    for v in values[1:]:
        best = pick(best, _fin(v))
    return best


def _sumproduct(*arrays: list) -> float:
    if len(arrays) == 2:
        a, b = arrays
        types = set(map(type, a))
        types.update(map(type, b))
        if len(types) != 1 or float not in types:
            raise _Slow
        total = 0.0
        for product in map(operator.mul, a, b):
            total += product
        return total
    total = 0.0
    for cells in zip(*arrays):
        product = 1.0
        for v in cells:
            if type(v) is not float:
                raise _Slow
            product *= v
        total += product
    return total


def _index(s: list, i: int, rows: int, cols: int, w: int, r: object, c: object) -> float:
    """INDEX(range, r, c) where it is a number in range; anything else goes slow."""
    r, c = int(_fin(r)), int(_fin(c))
    if not (1 <= r <= rows and 1 <= c <= cols):
        raise _Slow
    k = i + (r - 1) * w + c - 1
    if k >= len(s):
        raise _Slow
    return _num(s[k])


def _match0(x: object, values: list) -> float:
    """MATCH(x, range, 0) where every value is a number: the first equal one."""
    x = _fin(x)
    for i, v in enumerate(values):
        if type(v) is not float:
            raise _Slow
        if v == x:
            return float(i + 1)
    raise _Slow  # #N/A: the interpreter's


def _cond(x: object) -> bool:
    if type(x) is bool:
        return x
    return _fin(x) != 0.0


def _compare(op: str) -> Callable[[object, object], bool]:
    def cmp(a: object, b: object) -> bool:
        x, y = _fin(a), _fin(b)
        return _OPS[op](x, y)

    return cmp


_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda x, y: x == y,
    "<>": lambda x, y: x != y,
    "<": lambda x, y: x < y,
    ">": lambda x, y: x > y,
    "<=": lambda x, y: x <= y,
    ">=": lambda x, y: x >= y,
}
_CMP_NAMES = {"=": "_eq", "<>": "_ne", "<": "_lt", ">": "_gt", "<=": "_le", ">=": "_ge"}

_NAMESPACE = {
    "_Slow": _Slow,
    "_FAIL": (_Slow, ArithmeticError, TypeError, ValueError, IndexError),
    "_fin": _fin,
    "_pow": _pow,
    # each function's plain-float form, as its Function object gives it
    **{f"_f_{f.name}": f.fast for f in FUNCTIONS.values() if f.fast is not None},
    "_col": _col,
    "_row": _row,
    "_rect": _rect,
    "_sum": _sum,
    "_max": lambda v: _extreme(max, v),
    "_min": lambda v: _extreme(min, v),
    "_sumproduct": _sumproduct,
    "_index": _index,
    "_cond": _cond,
    "_match0": _match0,
    **{name: _compare(op) for op, name in _CMP_NAMES.items()},
}

Layout = dict[str, tuple[int, int]]  # sheet -> (position in the value lists, width)


class _Writer:
    """Python source for one band's expressions.

    Offsets between a formula's row and the rows it reads on its own sheet are
    written into the source; every other position (absolute references, rows of
    other sheets) becomes a parameter, so bands that differ only there share code.
    """

    def __init__(self, host: str, layout: Layout) -> None:
        self.host, self.layout = host, layout
        self.sheets_used: set[str] = {host}
        # (name, value, sheet): the sheet when the value is a relative reference's
        # offset from the formula's own row, which moves when that sheet's rows do
        self.params: list[tuple[str, int, str | None]] = []
        self.first = 0  # the row the current formula is written for
        self.prefix = "p"
        self.same_row: set[int] = set()  # columns the current formula reads in its own row
        self.later_rows: set[int] = set()  # columns it reads in later rows

    def start(self, f: Fill, position: int) -> None:
        self.first, self.prefix, self.count = f.first, f"p{position}_", 0
        self.width = f.width  # a fill across columns runs an inner loop over c
        self.same_row, self.later_rows = set(), set()

    def param(self, value: int, sheet: str | None = None) -> str:
        name = f"{self.prefix}{self.count}"
        self.count += 1
        self.params.append((name, value, sheet))
        return name

    def index(self, ref: Ref, last_row: int | None = None, last_col: int | None = None) -> str:
        """Python text of `ref`'s position in its sheet's value list; with `last_row`
        and `last_col`, `ref` is the top left of a range reaching there."""
        if ref.sheet not in self.layout:
            raise Unsupported
        slot, width = self.layout[ref.sheet]
        last_row = ref.row if last_row is None else last_row
        last_col = ref.col if last_col is None else last_col
        if last_col >= width:
            raise Unsupported
        self.sheets_used.add(ref.sheet)
        moves = "" if ref.abs_col or self.width == 1 else " + c"
        if not ref.abs_col and last_col + self.width - 1 >= width:
            raise Unsupported
        if ref.abs_row:
            return self.param(ref.row * width + ref.col) + moves
        offset = (ref.row - self.first) * width + ref.col
        if ref.sheet == self.host:
            reach = 0 if ref.abs_col else self.width - 1
            cols = range(ref.col, last_col + reach + 1)
            if ref.row <= self.first <= last_row:
                self.same_row.update(cols)
            if last_row > self.first:
                self.later_rows.update(cols)
            return f"b{slot} + {offset}{moves}"
        return f"b{slot} + {self.param(offset, ref.sheet)}{moves}"

    def ref(self, ref: Ref) -> str:
        i = self.index(ref)
        return f"s{self.layout[ref.sheet][0]}[{i}]"

    def values(self, rng: Expr) -> tuple[str, int]:
        """A range as Python text of the list of its values (row by row), and its size."""
        if type(rng) is not Range:
            raise Unsupported
        a, z = rng.first, rng.last
        if a.abs_row != z.abs_row or a.abs_col != z.abs_col or a.sheet not in self.layout:
            raise Unsupported  # a fill would change its shape
        r1, c1, r2, c2 = rng.bounds()
        slot, width = self.layout[a.sheet]
        i = self.index(Ref(a.sheet, r1, c1, a.abs_row, a.abs_col), r2, c2)
        rows, cols = r2 - r1 + 1, c2 - c1 + 1
        if cols == 1:
            return f"_col(s{slot}, {i}, {rows}, {width})", rows
        if rows == 1:
            return f"_row(s{slot}, {i}, {cols})", cols
        return f"_rect(s{slot}, {i}, {rows}, {cols}, {width})", rows * cols

    def leaf(self, e: Expr) -> bool:
        t = type(e)
        return t is Ref or t is Const or (t is Paren and self.leaf(e.inner))  # type: ignore[attr-defined]

    def checked(self, e: Expr) -> str:
        """An operand whose intermediate overflow could otherwise hide (x/inf is 0)."""
        text = self.expr(e)
        return text if self.leaf(e) else f"_fin({text})"

    def expr(self, e: Expr) -> str:
        write = _WRITERS.get(type(e))
        if write is None:
            raise Unsupported
        return write(self, e)

    def const(self, e: Const) -> str:
        if type(e.value) is not float:
            raise Unsupported
        return repr(e.value)

    def binop(self, e: BinOp) -> str:
        op = e.op
        if op == "+" or op == "-" or op == "*":
            return f"({self.expr(e.left)} {op} {self.expr(e.right)})"
        if op == "/":
            return f"({self.expr(e.left)} / {self.checked(e.right)})"
        if op == "^":
            return f"_pow({self.checked(e.left)}, {self.checked(e.right)})"
        if op not in _CMP_NAMES:
            raise Unsupported  # & (text): the interpreter's
        return f"{_CMP_NAMES[op]}({self.expr(e.left)}, {self.expr(e.right)})"

    def if_(self, e: If) -> str:
        return f"({self.expr(e.then)} if _cond({self.expr(e.cond)}) else {self.expr(e.other)})"

    def call(self, e: Call) -> str:
        if e.name == "PI":
            return repr(math.pi)
        if len(e.args) == 1 and FUNCTIONS[e.name].fast is not None:
            return f"_f_{e.name}({self.checked(e.args[0])})"
        if e.name in ("SUM", "MAX", "MIN"):
            parts = [self.values(a)[0] if type(a) is Range else f"[{self.expr(a)}]" for a in e.args]
            values = parts[0] if len(parts) == 1 else " + ".join(parts)
            return f"_{e.name.lower()}({values})"
        if e.name == "SUMPRODUCT":
            arrays = [self.values(a) for a in e.args]
            if len({n for _, n in arrays}) != 1 or any(
                a.shape != e.args[0].shape  # type: ignore[attr-defined]
                for a in e.args
            ):
                raise Unsupported  # shapes that differ: #VALUE!, the interpreter's
            return f"_sumproduct({', '.join(text for text, _ in arrays)})"
        exact = len(e.args) == 3 and e.args[2] == Const(0.0)
        if e.name == "MATCH" and exact:
            return f"_match0({self.expr(e.args[0])}, {self.values(e.args[1])[0]})"
        if e.name == "INDEX" and len(e.args) == 3 and type(e.args[0]) is Range:
            rng = e.args[0]
            a, z = rng.first, rng.last
            if a.abs_row != z.abs_row or a.abs_col != z.abs_col or a.sheet not in self.layout:
                raise Unsupported
            r1, c1, r2, c2 = rng.bounds()
            slot, width = self.layout[a.sheet]
            i = self.index(Ref(a.sheet, r1, c1, a.abs_row, a.abs_col), r2, c2)
            r, c = self.expr(e.args[1]), self.expr(e.args[2])
            return f"_index(s{slot}, {i}, {r2 - r1 + 1}, {c2 - c1 + 1}, {width}, {r}, {c})"
        raise Unsupported


_WRITERS: dict[type, Callable[[_Writer, Any], str]] = {
    Const: _Writer.const,
    Ref: _Writer.ref,
    Paren: lambda w, e: w.expr(e.inner),
    Neg: lambda w, e: f"(-{w.expr(e.operand)})",
    BinOp: _Writer.binop,
    Call: _Writer.call,
    If: _Writer.if_,
}


def _order(fills: list[Fill], needs: dict[int, set[int]]) -> list[int]:
    """Positions of `fills` in an order where each one's same-row inputs come first."""
    owners: dict[int, set[int]] = {}
    for i, f in enumerate(fills):
        for c in range(f.col, f.last_col + 1):
            owners.setdefault(c, set()).add(i)
    deps = {i: set().union(*(owners.get(c, set()) for c in needs[i])) for i in needs}
    order: list[int] = []
    done: set[int] = set()
    while len(order) < len(fills):
        ready = [i for i in range(len(fills)) if i not in done and deps[i] <= done]
        if not ready:
            raise Unsupported  # a cycle (or a fill reading itself): the interpreter's
        order += ready
        done |= set(ready)
    return order


# (value lists, first row, last row, slow path for a row, params, slow path for one fill)
BandRunner = Callable[..., None]


class BandCompiler:
    """Compiles bands, reusing the code of bands that differ only in parameters."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.cache: dict[str, BandRunner] = {}
        self.last: dict[str, _Compiled] = {}  # per sheet, the band compiled last

    def compile(
        self, host: str, fills: list[Fill], lo: int
    ) -> tuple[list[Fill], BandRunner | None, tuple[int, ...]]:
        """(fills in evaluation order, a runner over the band's rows or None, its parameters).

        Call the runner as runner(value_lists, lo, hi, slow, params, one): slow(row)
        computes what is left of a row, one(position, row) one fill's cells of a row.
        Fills the fast path cannot write run through `one`, after the others.

        A band that repeats the sheet's previous band further down (an unrolled loop's
        next step) takes its code as it is, and its parameters moved by as many rows
        as each sheet's references moved: checking that costs a third of writing the
        code again.
        """
        before = self.last.get(host)
        shifts = None if before is None else _shifts(host, fills, lo, before)
        if before is None or shifts is None:
            done = self._compile(host, fills, lo)
        else:
            down = lo - before.lo
            params = [
                (name, value if sheet is None else
                 value + (shifts[sheet] - down) * self.layout[sheet][1], sheet)
                for name, value, sheet in before.params
            ]  # fmt: skip
            done = _Compiled(lo, fills, before.positions, before.runner, params)
        self.last[host] = done
        order = [fills[i] for i in done.positions]
        return order, done.runner, tuple(value for _, value, _ in done.params)

    def _compile(self, host: str, fills: list[Fill], lo: int) -> _Compiled:
        as_given = _Compiled(lo, fills, list(range(len(fills))), None, [])
        hi = max(f.last for f in fills)
        hslot = self.layout[host][0]
        writer = _Writer(host, self.layout)
        cols = {c for f in fills for c in range(f.col, f.last_col + 1)}
        bodies, needs = [], {}
        interpreted: list[int] = []  # fills the fast path cannot write: the interpreter's
        for i, f in enumerate(fills):
            writer.start(f, i)
            indent = "            "
            lines = []
            if f.first > lo or f.last < hi:
                lines.append(f"{indent}if {f.first - lo} <= k <= {f.last - lo}:")
                indent += "    "
            try:
                text = writer.expr(f.expr)
            except Unsupported:
                interpreted.append(i)
                bodies.append([*lines, f"{indent}one({i}, r)"])
                continue
            if writer.later_rows & cols:
                return as_given  # reads a later row of the band
            needs[i] = writer.same_row
            target = f"b{hslot} + {f.col}"
            if f.width > 1:
                lines.append(f"{indent}for c in range({f.width}):")
                indent += "    "
                target += " + c"
            lines.append(f"{indent}t = {text}")
            lines.append(f"{indent}if type(t) is not float or t - t != 0.0: raise _Slow")
            lines.append(f"{indent}s{hslot}[{target}] = t")
            bodies.append(lines)
        if len(interpreted) == len(fills):
            return as_given
        compiled_cols = {c for i in needs for c in range(fills[i].col, fills[i].last_col + 1)}
        for i in interpreted:  # after every compiled fill of the row
            needs[i] = compiled_cols
        try:
            positions = _order(fills, needs)
        except Unsupported:
            return as_given
        slots = sorted(self.layout[s][0] for s in writer.sheets_used)
        widths = {slot: width for slot, width in self.layout.values()}
        src = ["def band(V, lo, hi, slow, P, one):"]
        src += [f"    s{k} = V[{k}]" for k in slots]
        src += [f"    {name} = P[{i}]" for i, (name, _, _) in enumerate(writer.params)]
        src.append("    for r in range(lo, hi + 1):")
        src.append("        k = r - lo")
        src += [f"        b{k} = r * {widths[k]}" for k in slots]
        src.append("        try:")
        for i in positions:
            src += bodies[i]
        src.append("        except _FAIL:")
        src.append("            slow(r)")
        text = "\n".join(src)
        if text not in self.cache:
            namespace = dict(_NAMESPACE)
            exec(compile(text, f"<band {host}>", "exec"), namespace)
            self.cache[text] = namespace["band"]
        return _Compiled(lo, fills, positions, self.cache[text], writer.params)


@dataclass
class _Compiled:
    """A band's compiled form: its first row and fills, the fills' evaluation order
    (positions), the runner (None: the interpreter's) and its parameters."""

    lo: int
    fills: list[Fill]
    positions: list[int]
    runner: BandRunner | None
    params: list[tuple[str, int, str | None]]


def _shifts(host: str, fills: list[Fill], lo: int, before: _Compiled) -> dict[str, int] | None:
    """How many rows each sheet's references moved if band `fills` (first row `lo`)
    repeats band `before` further down, else None. The band's own sheet must move
    with the band (its references are compiled as offsets from the row computed)."""
    if len(fills) != len(before.fills):
        return None
    shifts = {host: lo - before.lo}
    for f, b in zip(fills, before.fills):
        if (
            f.col != b.col
            or f.width != b.width
            or f.first - lo != b.first - before.lo
            or f.last - lo != b.last - before.lo
            or not _moved(f.expr, b.expr, shifts)
        ):
            return None
    return shifts


def _moved(e: Expr, base: Expr, shifts: dict[str, int]) -> bool:
    """Whether `e` is `base` with each sheet's relative rows moved by shifts[sheet]
    (a sheet seen first records its move)."""
    kind = type(e)
    if kind is not type(base):
        return False
    if kind is Ref:
        if (
            e.sheet != base.sheet  # type: ignore[attr-defined]
            or e.col != base.col  # type: ignore[attr-defined]
            or e.abs_row != base.abs_row  # type: ignore[attr-defined]
            or e.abs_col != base.abs_col  # type: ignore[attr-defined]
        ):
            return False
        down = e.row - base.row  # type: ignore[attr-defined]
        if e.abs_row:  # type: ignore[attr-defined]
            return down == 0
        return shifts.setdefault(e.sheet, down) == down  # type: ignore[attr-defined]
    if kind is Range:
        return _moved(e.first, base.first, shifts) and _moved(e.last, base.last, shifts)  # type: ignore[attr-defined]
    if kind is Const:
        return e._key() == base._key()  # type: ignore[attr-defined]
    if e._own() != base._own():
        return False
    mine, theirs = e.children(), base.children()
    return len(mine) == len(theirs) and all(_moved(a, b, shifts) for a, b in zip(mine, theirs))
