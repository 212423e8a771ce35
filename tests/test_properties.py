"""Property-based tests: random expressions against LibreOffice, random lessons against numpy."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sheetnet.engine import (
    BinOp,
    Call,
    Const,
    Expr,
    If,
    Neg,
    Paren,
    Range,
    Ref,
    Workbook,
    evaluate,
)  # fmt: skip
from sheetnet.engine.errors import ExcelError
from sheetnet.engine.semantics import Grid
from sheetnet.export.xlsx import write_xlsx
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.report import Report

# Each batch is one LibreOffice run (about a second); raise it for a longer hunt.
LO_BATCHES = int(os.environ.get("SHEETNET_LO_BATCHES", "4"))
INPUTS = (2.0, -3.0, 0.5, 0.0, 10.0)  # cells in!A1:A5, exact binary fractions
COLUMNS = (INPUTS, (1.0, -3.0, 4.0, 0.5, 2.0), (-3.0, 0.0, 0.5, 2.0, 10.0))  # A, B, C (sorted)
NICE = st.sampled_from([0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, 0.25, -0.5, 10.0, 100.0, 1e300,
                        710.0, -4.0, 1.5])  # fmt: skip


def leaf() -> st.SearchStrategy[Expr]:
    refs = st.integers(0, len(INPUTS) - 1).map(lambda r: Ref("in", r, 0))
    abs_refs = st.integers(0, len(INPUTS) - 1).map(lambda r: Ref("in", r, 0, True, True))
    return st.one_of(NICE.map(Const), refs, abs_refs)


def block(rows: int, cols: int) -> st.SearchStrategy[Range]:
    """A range of the inputs with this shape, anywhere it fits."""
    return st.tuples(st.integers(0, 5 - rows), st.integers(0, 3 - cols)).map(
        lambda t: Range(Ref("in", t[0], t[1]), Ref("in", t[0] + rows - 1, t[1] + cols - 1))
    )


@st.composite
def sumproducts(draw: st.DrawFn) -> Expr:
    """SUMPRODUCT over ranges of one shape, with arithmetic and comparisons inside."""
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 2))
    array = st.recursive(
        st.one_of(block(rows, cols), NICE.map(Const)),
        lambda inner: st.one_of(
            st.builds(BinOp, st.sampled_from("+-*/"), inner, inner),
            st.builds(Neg, inner),
            st.builds(lambda op, a, b: BinOp("*", Paren(BinOp(op, a, b)), Const(1.0)),
                      st.sampled_from(["=", "<>", "<", ">"]), inner, inner),
        ),
        max_leaves=4,
    )  # fmt: skip
    first = draw(array.filter(lambda e: any(isinstance(n, Range) for n in e.walk())))
    rest = draw(st.lists(block(rows, cols), max_size=2))
    return Call("SUMPRODUCT", first, *rest)


def grow(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    rng = st.tuples(st.integers(0, 4), st.integers(0, 4)).map(
        lambda t: Range(Ref("in", min(t), 0), Ref("in", max(t), 0))
    )
    wide = st.tuples(st.integers(1, 5), st.integers(1, 3)).flatmap(lambda s: block(*s))
    column = st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 2)).map(
        lambda t: Range(Ref("in", min(t[:2]), t[2]), Ref("in", max(t[:2]), t[2]))
    )
    # at least two cells: Gnumeric's MATCH(x, one cell, 1) is #N/A (see apps/gnumeric.py)
    sorted_column = st.tuples(st.integers(0, 3), st.integers(1, 4)).map(
        lambda t: Range(Ref("in", t[0], 2), Ref("in", max(t[0] + 1, t[1]), 2))
    )
    return st.one_of(
        sumproducts(),
        st.builds(lambda x, r: Call("MATCH", x, r, 0.0), children, column),
        st.builds(lambda x, r, k: Call("MATCH", x, r, k), children, sorted_column,
                  st.sampled_from([1.0])),
        st.builds(lambda r, i, j: Call("INDEX", r, float(i), float(j)), wide,
                  st.integers(1, 4), st.integers(1, 2)),
        st.builds(lambda f, r: Call(f, r), st.sampled_from(["SUM", "MAX", "MIN", "COUNT"]), wide),
        st.builds(BinOp, st.sampled_from("+-*/^"), children, children),
        st.builds(Neg, children),
        st.builds(Paren, children),
        st.builds(lambda f, x: Call(f, x), st.sampled_from(["EXP", "LN", "SQRT", "ABS", "LOG",
                                                           "INT", "COS"]), children),
        st.builds(lambda x, b: Call("LOG", x, b), children, children),
        st.builds(lambda f, r: Call(f, r), st.sampled_from(["SUM", "SUMSQ", "AVERAGE", "MAX",
                                                           "MIN", "COUNT"]), rng),
        st.builds(lambda r, k: Call("INDEX", r, float(k), 1.0), rng, st.integers(1, 3)),
        st.builds(lambda op, a, b, t, e: If(BinOp(op, a, b), t, e),
                  st.sampled_from(["=", "<>", "<", ">", "<=", ">="]), children, children,
                  children, children),
    )  # fmt: skip


EXPRESSIONS = st.recursive(leaf(), grow, max_leaves=12)

# Corners every batch carries: precedence and each error kind.
_two, _neg2 = Const(2.0), Const(-2.0)
CORNERS = [
    Neg(BinOp("^", _two, _two)), BinOp("^", _neg2, _two), BinOp("^", _two, _neg2),
    BinOp("/", Const(1.0), Const(0.0)), Call("EXP", Const(800.0)), Call("SQRT", _neg2),
    Call("LN", Const(0.0)), BinOp("*", Const(1e300), Const(1e300)),
    Call("LOG", Const(8.0), Const(1.0)), BinOp("-", _two, BinOp("-", _two, _two)),
    Call("INDEX", Range(Ref("in", 0, 0), Ref("in", 2, 0)), 7.0, 1.0),
    Call("INT", Const(-1.5)), Call("COS", BinOp("*", Call("PI"), Const(0.25))), Call("NA"),
]  # fmt: skip


class _Inputs:
    """A context holding only the input cells, to evaluate sub-expressions."""

    def cell(self, sheet: str, row: int, col: int) -> object:
        if sheet == "in" and col < len(COLUMNS) and row < len(INPUTS):
            return COLUMNS[col][row]
        return None

    def grid(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> Grid:
        values = [self.cell(sheet, r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        return Grid(r2 - r1 + 1, c2 - c1 + 1, values)


def node_value(expr: Expr, ctx: _Inputs) -> object:
    from sheetnet.engine.expr import _scalar

    return _scalar(expr.evaluate(ctx))


def comparable(expr: Expr) -> bool:
    """False where an application is documented to differ in a way no comparison can accept:
    0^0 and negative^fraction give numbers there (errors in Excel), and a subtraction of
    nearly equal numbers snaps to 0 there, which later operations can magnify."""
    ctx = _Inputs()
    for node in expr.walk():
        if isinstance(node, Call) and node.name in ("INDEX", "MATCH"):
            rng = node.args[0 if node.name == "INDEX" else 1]
            if isinstance(rng, Range) and rng.shape == (1, 1):
                return False  # Gnumeric: a one-cell range is one cell (apps/gnumeric.py)
        if isinstance(node, Call) and node.name == "LOG" and len(node.args) == 2:
            args = [node_value(a, ctx) for a in node.args]
            if all(isinstance(a, ExcelError) for a in args):
                return False  # which of two errors LOG reports differs between applications
        if isinstance(node, BinOp) and node.op in "+-^":
            a, b = node.left.evaluate(ctx), node.right.evaluate(ctx)
            if not (isinstance(a, float) and isinstance(b, float)):
                continue
            if node.op == "^" and ((a == 0 and b == 0) or (a < 0 and not b.is_integer())):
                return False
            if node.op in "+-":
                r = a + b if node.op == "+" else a - b
                if r != 0 and abs(r) < 2.0**-40 * max(abs(a), abs(b)):
                    return False
    return True


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(
    max_examples=LO_BATCHES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(EXPRESSIONS, min_size=150, max_size=250))
def test_random_expressions_agree_with_each_app(app, tmp_path_factory, exprs):
    exprs = [e for e in exprs if comparable(e)]
    assume(len(exprs) > 50)
    exprs += CORNERS
    wb = Workbook()
    inputs = wb.add_sheet("in")
    for j, column in enumerate(COLUMNS):
        for i, v in enumerate(column):
            inputs.input((i, j), v)
    out = wb.add_sheet("out")
    for i, e in enumerate(exprs):
        out.formula((i, 0), e)
    results = evaluate(wb)
    tmp = tmp_path_factory.mktemp("expr")
    path = write_xlsx(wb, results, tmp / "exprs.xlsx")
    got = read_workbook(app.recalculate(path, tmp / "app"))["out"].values
    report = Report(f"random expressions vs {app.title}", rtol=1e-12)
    errors = 0
    for i, e in enumerate(exprs):
        exp = results["out", i, 0]
        errors += isinstance(exp, ExcelError)
        formula = e.formula("out")
        report.compare(
            "out",
            f"A{i + 1}",
            exp,
            got.get(f"A{i + 1}"),
            lambda x, y, f=formula: app.known_difference(x, y, f, {}),
        )
    bad = report.mismatches()
    detail = [f"{m.cell}: {exprs[int(m.cell[1:]) - 1].formula('out')} engine={m.expected!r} "
              f"{app.name}={m.got!r}" for m in bad[:5]]  # fmt: skip
    assert not bad, "\n".join(detail)
    assert errors >= 7  # the corners' errors, at least
