"""Fast path: a band of filled-down formulas compiled to one Python loop.

A band is the fills of one sheet that cover the same rows. Its formulas become
straight-line Python over the sheet's flat value list, one loop iteration per
row. The fast path only ever computes finite doubles: whenever a value is not a
plain float, an operation raises, or a result is not finite, the row is handed
back to the exact interpreter (expr.evaluate), which produces Excel's errors.
Both paths use the same math functions, so they agree to the bit.

Supported: numbers, references (relative or absolute, any sheet), + - * / ^,
unary minus, parentheses, EXP, LN, LOG(x), SQRT, ABS. Anything else leaves the
band to the interpreter.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .expr import BinOp, Call, Const, Expr, Neg, Paren, Ref
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


_NAMESPACE = {
    "_Slow": _Slow,
    "_FAIL": (_Slow, ArithmeticError, TypeError, ValueError, IndexError),
    "_fin": _fin,
    "_pow": _pow,
    "_exp": math.exp,
    "_ln": math.log,
    "_log10": math.log10,
    "_sqrt": math.sqrt,
}
_FUNCTIONS = {"EXP": "_exp", "LN": "_ln", "SQRT": "_sqrt", "ABS": "abs"}

Layout = dict[str, tuple[int, int]]  # sheet -> (position in the value lists, width)


class _Writer:
    """Python source for one band's expressions."""

    def __init__(self, host: str, first: int, layout: Layout) -> None:
        self.host, self.first, self.layout = host, first, layout
        self.sheets_used: set[str] = set()

    def ref(self, ref: Ref) -> str:
        if ref.sheet not in self.layout:
            raise Unsupported
        slot, width = self.layout[ref.sheet]
        if ref.col >= width:
            raise Unsupported
        self.sheets_used.add(ref.sheet)
        if ref.abs_row:
            return f"s{slot}[{ref.row * width + ref.col}]"
        offset = (ref.row - self.first) * width + ref.col
        return f"s{slot}[b{slot} + {offset}]"

    def leaf(self, expr: Expr) -> bool:
        return isinstance(expr, Ref | Const) or (isinstance(expr, Paren) and self.leaf(expr.inner))

    def checked(self, expr: Expr) -> str:
        """An operand whose intermediate overflow could otherwise hide (x/inf is 0)."""
        text = self.expr(expr)
        return text if self.leaf(expr) else f"_fin({text})"

    def expr(self, e: Expr) -> str:
        if isinstance(e, Const):
            if type(e.value) is not float:
                raise Unsupported
            return repr(e.value)
        if isinstance(e, Ref):
            return self.ref(e)
        if isinstance(e, Paren):
            return self.expr(e.inner)
        if isinstance(e, Neg):
            return f"(-{self.expr(e.operand)})"
        if isinstance(e, BinOp):
            if e.op in "+-*":
                return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
            if e.op == "/":
                return f"({self.expr(e.left)} / {self.checked(e.right)})"
            if e.op == "^":
                return f"_pow({self.checked(e.left)}, {self.checked(e.right)})"
            raise Unsupported  # comparisons: the interpreter knows Excel's type rules
        if isinstance(e, Call):
            if e.name == "LOG" and len(e.args) == 1:
                return f"_log10({self.checked(e.args[0])})"
            if e.name in _FUNCTIONS:
                return f"{_FUNCTIONS[e.name]}({self.checked(e.args[0])})"
        raise Unsupported


def _same_row_order(host: str, fills: list[Fill]) -> list[Fill]:
    """Fills in an order where each one's same-row inputs come first."""
    in_band = {f.col for f in fills}
    needs: dict[int, set[int]] = {f.col: set() for f in fills}
    for f in fills:
        for node in f.expr.walk():
            if not (isinstance(node, Ref) and node.sheet == host and not node.abs_row):
                continue
            if node.col in in_band and node.row > f.first:
                raise Unsupported  # reads a later row of the band
            if node.col in in_band and node.row == f.first:
                if node.col == f.col:
                    raise Unsupported  # reads itself
                needs[f.col].add(node.col)
    order: list[Fill] = []
    done: set[int] = set()
    while len(order) < len(fills):
        ready = [f for f in fills if f.col not in done and needs[f.col] <= done]
        if not ready:
            raise Unsupported  # a cycle: the interpreter will name it
        for f in ready:
            order.append(f)
            done.add(f.col)
    return order


BandRunner = Callable[[list[list[object]], int, int, Callable[[int], None]], None]


def compile_band(
    host: str, fills: list[Fill], layout: Layout
) -> tuple[list[Fill], BandRunner | None]:
    """(fills in evaluation order, a runner over rows first..last, or None)."""
    try:
        order = _same_row_order(host, fills)
    except Unsupported:
        return fills, None
    first = fills[0].first
    writer = _Writer(host, first, layout)
    hslot = layout[host][0]
    try:
        lines = []
        for f in order:
            lines.append(f"            t = {writer.expr(f.expr)}")
            lines.append("            if type(t) is not float or t - t != 0.0: raise _Slow")
            lines.append(f"            s{hslot}[b{hslot} + {f.col}] = t")
    except Unsupported:
        return order, None
    slots = sorted({layout[s][0] for s in writer.sheets_used} | {hslot})
    widths = {layout[s][0]: layout[s][1] for s in layout}
    src = ["def band(V, first, last, slow):"]
    src += [f"    s{k} = V[{k}]" for k in slots]
    src.append("    for r in range(first, last + 1):")
    src += [f"        b{k} = r * {widths[k]}" for k in slots]
    src.append("        try:")
    src += lines
    src.append("        except _FAIL:")
    src.append("            slow(r)")
    namespace = dict(_NAMESPACE)
    exec(compile("\n".join(src), f"<band {host}!{first + 1}>", "exec"), namespace)
    return order, namespace["band"]
