"""Blocks, fills across columns, and arrays inside SUMPRODUCT."""

from __future__ import annotations

import numpy as np
import pytest

from sheetnet.engine import (
    NA,
    VALUE,
    Block,
    If,
    Workbook,
    evaluate,
    exp,
    max_,
    sum_,
    sumproduct,
)
from sheetnet.engine.expr import cell_renderer
from sheetnet.export.xlsx import write_xlsx
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.recalc import verify_file


def sheet_with(values: list[list[float]]):
    wb = Workbook()
    s = wb.add_sheet("s")
    Block(s, 0, 0, len(values), len(values[0])).inputs(values)
    return wb, s


def test_shift_moves_relative_rows_and_columns_only():
    _, s = sheet_with([[1.0]])
    e = s.ref("B2") + s.ref("$C2") + s.ref("D$3") + s.ref("$E$4")
    assert e.shift(2, 3).formula("s") == "=E4+$C4+G$3+$E$4"
    assert s.ref("Z1").shift(0, 1).formula("s") == "=AA1"
    assert s.range("BL1:BM1").fixed_row().formula("s") == "=BL$1:BM$1"


def test_renderer_substitutes_rows_and_columns_past_z():
    _, s = sheet_with([[1.0]])
    e = sumproduct(s.range("Y$3:Z$9"), s.ref("$A1")) + s.ref("AZ7")
    at = cell_renderer(e, "s")
    for n, m in [(0, 0), (2, 3), (40, 700)]:
        assert at(n, m) == e.shift(n, m).formula("s")


@pytest.mark.parametrize(
    "build, exp",
    [
        (lambda r: sumproduct(r("A1:A3") * 2), 2 * (1 + 2 + 3)),
        (lambda r: sumproduct((r("A1:A3").eq(r("B1:B3"))) * 1), 2),  # rows 1 and 3 equal
        (lambda r: sumproduct(r("A1:A3"), r("B1:B3")), 1 * 1 + 2 * 5 + 3 * 3),
        (lambda r: sumproduct(-r("A1:A3"), r("B1:B3") - 1), -(0 + 2 * 4 + 3 * 2)),
        (lambda r: sumproduct(r("A1:A3") > 1), 0),  # logicals count as 0
        (lambda r: sumproduct(r("A1:A3"), r("B1:B2")), VALUE),  # shapes differ
        (lambda r: sumproduct(r("A1:A3") * r("B1:B2")), NA),  # the third element is #N/A
        (lambda r: sumproduct(r("A1:B3") * r("A1:A3")), 1 + 1 + 4 + 10 + 9 + 9),  # broadcast
    ],
)
def test_arrays_inside_sumproduct(build, exp):
    wb, s = sheet_with([[1.0, 1.0], [2.0, 5.0], [3.0, 3.0]])
    s.formula("D1", build(s.range))
    got = evaluate(wb).at("s", "D1")
    assert got is exp if not isinstance(exp, int) else got == float(exp)


def test_a_range_outside_sumproduct_is_still_one_value_or_value_error():
    wb, s = sheet_with([[1.0], [2.0]])
    s.formula("C1", s.range("A1:A2") * 2)
    assert evaluate(wb).at("s", "C1") is VALUE


def fills_of(s):
    return sorted((f.first, f.col, f.last - f.first + 1, f.width) for f in s.fills)


def test_block_fill_stores_what_excel_would_fill():
    wb, s = sheet_with([[float(i * 3 + j) for j in range(3)] for i in range(4)])
    X = Block(s, 0, 0, 4, 3)
    whole = Block(s, 0, 4, 4, 3)
    whole.fill(lambda i, j: X[i, j] * 2)  # one rectangle
    down = Block(s, 0, 8, 4, 3)
    down.fill(lambda i, j: sum_(X.fixed_col().row(i)) * X.fixed()[0, j])  # per column
    across = Block(s, 5, 0, 3, 3)
    across.fill(lambda k, j: sum_(X.fixed_row().col(j)) + X.fixed()[0, k])  # per row
    singles = Block(s, 9, 0, 2, 2)
    singles.fill(lambda i, j: X.fixed()[i * 2, j * 2])
    assert fills_of(s) == sorted(
        [(0, 4, 4, 3)]
        + [(0, 8 + j, 4, 1) for j in range(3)]
        + [(5 + k, 0, 1, 3) for k in range(3)]
        + [(9 + i, j, 1, 1) for i in range(2) for j in range(2)]
    )
    got = evaluate(wb)
    x = np.arange(12.0).reshape(4, 3)
    for block, want in [
        (whole, x * 2),
        (down, x.sum(axis=1)[:, None] * x[0][None, :]),
        (across, x.sum(axis=0)[None, :] + x[0][:, None]),
        (singles, x[::2, ::2]),
    ]:
        values = [[got.get(("s", block.top + i, block.left + j)) for j in range(block.cols)]
                  for i in range(block.rows)]  # fmt: skip
        np.testing.assert_array_equal(values, want)


def test_writing_a_cell_inside_a_wide_fill_replaces_that_cell_only():
    wb, s = sheet_with([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    X = Block(s, 0, 0, 2, 3)
    Y = Block(s, 3, 0, 2, 3)
    Y.fill(lambda i, j: X[i, j] + 10)
    s.formula("B4", X[0, 1] * 100)
    got = evaluate(wb)
    assert [got.at("s", a) for a in ("A4", "B4", "C4", "A5", "B5", "C5")] == [
        11.0, 200.0, 13.0, 14.0, 15.0, 16.0]  # fmt: skip
    assert s["C5"].content.formula("s") == "=C2+10"


# -- a toy matrix lesson: softmax regression by mini-batch SGD -------------------------
B, P, K, STEPS, LR = 6, 5, 3, 4, 0.5


def toy_data():
    rng = np.random.default_rng(7)
    return rng.random((B, P)), rng.integers(0, K, B).astype(float), rng.normal(0, 0.1, (K, P))


def toy_workbook() -> Workbook:
    x, y, w0 = toy_data()
    wb = Workbook()
    d = wb.add_sheet("data")
    X = Block(d, 1, 1, B, P)
    X.inputs(x)
    Y = Block(d, 1, 0, B, 1)
    Y.inputs(y[:, None])
    s = wb.add_sheet("train")
    W = Block(s, 1, 1, K, P)
    W.inputs(w0)
    top = K + 2
    Xr, Xc, Yr = X.fixed_col(), X.fixed_row(), Y.fixed_col()
    for _ in range(STEPS):
        L = Block(s, top, 1, B, K)
        L.fill(lambda i, k, W=W: sumproduct(Xr.row(i), W.fixed().row(k)))
        M = L.right(0, 1)
        M.fill(lambda i, _, L=L: max_(L.fixed_col().row(i)))
        E = M.right(0, K)
        E.fill(lambda i, k, L=L, M=M: exp(L[i, k] - M.fixed_col()[i, 0]))
        S = E.right(0, 1)
        S.fill(lambda i, _, E=E: sum_(E.fixed_col().row(i)))
        D = S.right(0, K)
        D.fill(lambda i, k, E=E, S=S: (E[i, k] / S.fixed_col()[i, 0]
                                       - If(Yr[i, 0].eq(k), 1, 0)) / B)  # fmt: skip
        new = Block(s, top + B + 1, 1, K, P)
        new.fill(lambda k, j, W=W, D=D: W[k, j] - LR * sumproduct(D.fixed().col(k), Xc.col(j)))
        W, top = new, top + B + K + 2
    return wb


def toy_reference() -> list[np.ndarray]:
    """The same training in numpy: each step's weights."""
    x, y, w = toy_data()
    steps = []
    for _ in range(STEPS):
        logits = x @ w.T
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        delta = (e / e.sum(axis=1, keepdims=True) - np.eye(K)[y.astype(int)]) / B
        w = w - LR * delta.T @ x
        steps.append(w)
    return steps


def toy_weights(values) -> list[np.ndarray]:
    out = []
    for t in range(STEPS):
        top = (K + 2) + t * (B + K + 2) + B + 1
        out.append(np.array([[values(top + k, 1 + j) for j in range(P)] for k in range(K)]))
    return out


def test_toy_matrix_lesson_runs_on_the_fast_path_and_agrees_with_numpy():
    wb = toy_workbook()
    fast, slow = evaluate(wb), evaluate(wb, compiled=False)
    assert fast.interpreted == 0
    assert slow.interpreted == wb.formula_count()
    assert dict(fast.items()) == dict(slow.items())  # bit for bit
    got = toy_weights(lambda r, c: fast.get(("train", r, c)))
    for g, e in zip(got, toy_reference()):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_toy_matrix_lesson_agrees_with_libreoffice(libreoffice, tmp_path):
    wb = toy_workbook()
    results = evaluate(wb)
    path = write_xlsx(wb, results, tmp_path / "toy.xlsx")
    report = verify_file(path)
    assert report.ok, report.render()
    assert sum(s.compared for s in report.sheets.values()) == wb.formula_count()
    formulas = read_workbook(path)["train"].formulas
    assert formulas["B13"] == "=B2-0.5*SUMPRODUCT($J$6:$J$11,data!B$2:B$7)"


def test_a_block_is_stored_as_a_fill_only_when_every_cell_fits():
    wb, s = sheet_with([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    X = Block(s, 0, 0, 3, 3)
    Y = Block(s, 4, 0, 3, 3)
    Y.fill(lambda i, j: X[i, j] * (3 if (i, j) == (1, 1) else 2))  # corners alone agree
    assert s["B6"].content.formula("s") == "=B2*3"
    got = evaluate(wb)
    assert [got.at("s", a) for a in ("A5", "B6", "C7")] == [2.0, 15.0, 18.0]


def test_matches_is_equality_with_the_shifted_copy():
    """Block.fill decides storage by `matches`; it must mean shift(...) == exactly."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sheetnet.engine import Call, Const, If, Neg, Paren, Range, Ref

    refs = st.builds(Ref, st.sampled_from(["s", "t"]), st.integers(0, 30), st.integers(0, 30),
                     st.booleans(), st.booleans())  # fmt: skip
    leaves = st.one_of(refs, st.builds(Const, st.floats(-5, 5)),
                       st.builds(lambda a, b: Range(a, b), refs, refs))  # fmt: skip

    def grow(children):
        return st.one_of(
            st.builds(lambda a, b: a + b, children, children),
            st.builds(lambda a, b: a * b, children, children),
            st.builds(Neg, children),
            st.builds(Paren, children),
            st.builds(lambda a: Call("SUM", a), children),
            st.builds(If, children, children, children),
        )

    exprs = st.recursive(leaves, grow, max_leaves=6)

    @settings(max_examples=300, deadline=None)
    @given(exprs, exprs, st.integers(0, 5), st.integers(0, 5))
    def check(a, b, rows, cols):
        assert a.shift(rows, cols).matches(a, rows, cols)
        assert b.matches(a, rows, cols) == (b == a.shift(rows, cols))

    check()


def test_fill_like_is_the_checked_fill_of_the_shifted_formula():
    """fill_like(base) stores what fill(lambda i, j: base.shift(i, j)) decides, after
    that one has checked every cell; both give every cell the same formula."""
    from sheetnet.engine import Workbook, exp, max_

    for make in (
        lambda X, M: exp(X[0, 0] - M.fixed_col()[0, 0]),
        lambda X, M: max_(X.fixed_col().row(0)) * 2,
    ):
        sheets = []
        for how in ("like", "checked"):
            wb = Workbook()
            s = wb.add_sheet("s")
            X, M = Block(s, 0, 0, 4, 3), Block(s, 0, 3, 4, 1)
            base = make(X, M)
            out = Block(s, 6, 0, 4, 3)
            if how == "like":
                out.fill_like(base)
            else:
                out.fill(lambda i, j, base=base: base.shift(i, j))
            sheets.append(s)
        like, checked = sheets
        assert [(f.col, f.first, f.last, f.width) for f in like.fills] == [
            (f.col, f.first, f.last, f.width) for f in checked.fills
        ]
        cells = [(r, c) for r in range(6, 10) for c in range(3)]
        assert [like.cell(r, c).content for r, c in cells] == [
            checked.cell(r, c).content for r, c in cells
        ]


def test_fill_columns_and_rows_store_what_the_checked_fill_decides():
    from sheetnet.engine import Workbook, sumproduct

    def build(how: str):
        wb = Workbook()
        s = wb.add_sheet("s")
        X, W = Block(s, 0, 0, 3, 4), Block(s, 5, 0, 2, 4)
        Z, G = Block(s, 0, 6, 3, 2), Block(s, 10, 0, 2, 4)
        Xr, Wf, Xc, Xf = X.fixed_col(), W.fixed(), X.fixed_row(), X.fixed()
        if how == "declared":
            Z.fill_columns(lambda k: sumproduct(Xr.row(0), Wf.row(k)))
            G.fill_rows(lambda k: sumproduct(Xf.col(k), Xc.col(0)) * W[k, 0])
        else:
            Z.fill(lambda i, k: sumproduct(Xr.row(i), Wf.row(k)))
            G.fill(lambda k, j: sumproduct(Xf.col(k), Xc.col(j)) * W[k, j])
        return s

    declared, checked = build("declared"), build("checked")
    key = sorted((f.col, f.first, f.last, f.width) for f in declared.fills)
    assert key == sorted((f.col, f.first, f.last, f.width) for f in checked.fills)
    for r, c in [(r, c) for r in range(12) for c in range(8)]:
        a, b = declared.cell(r, c), checked.cell(r, c)
        assert (a and a.content) == (b and b.content)
