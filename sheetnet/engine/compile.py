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
from typing import Any

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
    """Python source for one band's expressions.

    Offsets between a formula's row and the rows it reads on its own sheet are
    written into the source; every other position (absolute references, rows of
    other sheets) becomes a parameter, so bands that differ only there share code.
    """

    def __init__(self, host: str, layout: Layout) -> None:
        self.host, self.layout = host, layout
        self.sheets_used: set[str] = {host}
        self.params: list[tuple[str, int]] = []
        self.first = 0  # the row the current formula is written for
        self.prefix = "p"
        self.same_row: set[int] = set()  # columns the current formula reads in its own row
        self.later_rows: set[int] = set()  # columns it reads in later rows

    def start(self, f: Fill, position: int) -> None:
        self.first, self.prefix = f.first, f"p{position}_"
        self.same_row, self.later_rows = set(), set()

    def param(self, value: int) -> str:
        name = f"{self.prefix}{sum(n.startswith(self.prefix) for n, _ in self.params)}"
        self.params.append((name, value))
        return name

    def ref(self, ref: Ref) -> str:
        if ref.sheet not in self.layout:
            raise Unsupported
        slot, width = self.layout[ref.sheet]
        if ref.col >= width:
            raise Unsupported
        self.sheets_used.add(ref.sheet)
        if ref.abs_row:
            return f"s{slot}[{self.param(ref.row * width + ref.col)}]"
        offset = (ref.row - self.first) * width + ref.col
        if ref.sheet == self.host:
            if ref.row == self.first:
                self.same_row.add(ref.col)
            elif ref.row > self.first:
                self.later_rows.add(ref.col)
            return f"s{slot}[b{slot} + {offset}]"
        return f"s{slot}[b{slot} + {self.param(offset)}]"

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
        raise Unsupported  # comparisons: the interpreter knows Excel's type rules

    def call(self, e: Call) -> str:
        if e.name == "LOG" and len(e.args) == 1:
            return f"_log10({self.checked(e.args[0])})"
        if e.name in _FUNCTIONS:
            return f"{_FUNCTIONS[e.name]}({self.checked(e.args[0])})"
        raise Unsupported


_WRITERS: dict[type, Callable[[_Writer, Any], str]] = {
    Const: _Writer.const,
    Ref: _Writer.ref,
    Paren: lambda w, e: w.expr(e.inner),
    Neg: lambda w, e: f"(-{w.expr(e.operand)})",
    BinOp: _Writer.binop,
    Call: _Writer.call,
}


def _order(fills: list[Fill], needs: dict[int, set[int]]) -> list[int]:
    """Positions of `fills` in an order where each one's same-row inputs come first."""
    cols = {f.col for f in fills}
    order: list[int] = []
    done: set[int] = set()
    while len(order) < len(fills):
        ready = [i for i, f in enumerate(fills)
                 if f.col not in done and needs[i] & cols <= done]  # fmt: skip
        if not ready:
            raise Unsupported  # a cycle: the interpreter will name it
        order += ready
        done |= {fills[i].col for i in ready}
    return order


BandRunner = Callable[..., None]  # (value lists, first row, last row, slow path, params)


class BandCompiler:
    """Compiles bands, reusing the code of bands that differ only in parameters."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.cache: dict[str, BandRunner] = {}

    def compile(
        self, host: str, fills: list[Fill], lo: int
    ) -> tuple[list[Fill], BandRunner | None, tuple[int, ...]]:
        """(fills in evaluation order, a runner over the band's rows or None, its parameters).

        Call the runner as runner(value_lists, lo, hi, slow, params).
        """
        hi = max(f.last for f in fills)
        hslot = self.layout[host][0]
        writer = _Writer(host, self.layout)
        cols = {f.col for f in fills}
        bodies, needs = [], {}
        try:
            for i, f in enumerate(fills):
                writer.start(f, i)
                text = writer.expr(f.expr)
                if writer.later_rows & cols or f.col in writer.same_row:
                    raise Unsupported  # reads a later row of the band, or itself
                needs[i] = writer.same_row
                indent = "            "
                lines = []
                if f.first > lo or f.last < hi:
                    lines.append(f"{indent}if {f.first - lo} <= k <= {f.last - lo}:")
                    indent += "    "
                lines.append(f"{indent}t = {text}")
                lines.append(f"{indent}if type(t) is not float or t - t != 0.0: raise _Slow")
                lines.append(f"{indent}s{hslot}[b{hslot} + {f.col}] = t")
                bodies.append(lines)
            positions = _order(fills, needs)
        except Unsupported:
            return fills, None, ()
        slots = sorted(self.layout[s][0] for s in writer.sheets_used)
        widths = {slot: width for slot, width in self.layout.values()}
        src = ["def band(V, lo, hi, slow, P):"]
        src += [f"    s{k} = V[{k}]" for k in slots]
        src += [f"    {name} = P[{i}]" for i, (name, _) in enumerate(writer.params)]
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
        order = [fills[i] for i in positions]
        return order, self.cache[text], tuple(value for _, value in writer.params)
