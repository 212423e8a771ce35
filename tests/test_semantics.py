"""Excel semantics of the engine, each expected value worked out by hand from Excel's rules."""

from __future__ import annotations

import math

import pytest

from sheetnet.engine import (
    DIV0,
    NA,
    NUM,
    REF,
    VALUE,
    Const,
    If,
    Neg,
    Workbook,
    abs_,
    average,
    count,
    evaluate,
    exp,
    index,
    lift,
    ln,
    log,
    match,
    max_,
    min_,
    sqrt,
    sum_,
    sumproduct,
    sumsq,
)


def value_of(expr):
    wb = Workbook()
    s = wb.add_sheet("s")
    s.formula("A1", expr)
    return evaluate(wb).at("s", "A1")


two, neg2 = lift(2), lift(-2)


@pytest.mark.parametrize(
    ("expr", "exp_formula", "exp_value"),
    [
        (-(two**2), "=-(2^2)", -4.0),
        (neg2**2, "=-2^2", 4.0),  # Excel: unary minus binds tighter than ^
        (two**-two, "=2^-2", 0.25),
        (two - (two - 1), "=2-(2-1)", 1.0),
        ((two - two) - 1, "=2-2-1", -1.0),
        (two / (two * 4), "=2/(2*4)", 0.25),
        ((two**3) ** 2, "=2^3^2", 64.0),  # left-associative
        (two ** (lift(3) ** 2), "=2^(3^2)", 512.0),
        (two - neg2, "=2-(-2)", 4.0),
        (Neg(Neg(two)), "=--2", 2.0),
        (lift(0.1) + 0.2, "=0.1+0.2", 0.1 + 0.2),
        (lift(1e-5) * 3, "=1E-05*3", 3e-5),
        (log(lift(1000)), "=LOG(1000)", 3.0),  # base 10, not e
        (log(lift(8), 2), "=LOG(8,2)", 3.0),
        (ln(exp(lift(1))), "=LN(EXP(1))", 1.0),
        (sqrt(lift(16)), "=SQRT(16)", 4.0),
        (abs_(neg2), "=ABS(-2)", 2.0),
        (If(two > 1, "yes", "no"), '=IF(2>1,"yes","no")', "yes"),
        (If(two.eq(3), 1), "=IF(2=3,1,FALSE)", False),
        (lift("a").eq("A"), '="a"="A"', True),  # text compares case-insensitively
        (lift("b") > 1, '="b">1', True),  # text sorts after numbers
    ],
)
def test_value_and_formula(expr, exp_formula, exp_value):
    assert expr.formula("s") == exp_formula
    got = value_of(expr)
    if isinstance(exp_value, float):
        assert got == pytest.approx(exp_value, rel=1e-15)
    else:
        assert got == exp_value


@pytest.mark.parametrize(
    ("expr", "exp"),
    [
        (lift(1) / 0, DIV0),
        (exp(lift(800)), NUM),  # overflow is #NUM!, never inf
        (lift(1e308) * 10, NUM),
        (lift(1) / (lift(1e308) * 10), NUM),  # errors propagate through later operations
        (sqrt(lift(-1)), NUM),
        (ln(lift(0)), NUM),
        (log(lift(-1)), NUM),
        (log(lift(8), 1), DIV0),
        (lift(0) ** 0, NUM),
        (lift(0) ** -1, DIV0),
        (lift(-8) ** (lift(1) / 3), NUM),
        (lift("a") + 1, VALUE),
        (sqrt(lift("x")), VALUE),
        (If(lift("x"), 1, 2), VALUE),
        (exp(lift(1) / 0) + 1, DIV0),
        (Const(NA) * 0, NA),
    ],
)
def test_errors_are_values_that_propagate(expr, exp):
    assert value_of(expr) is exp


def test_numeric_text_and_empty_cells_coerce():
    wb = Workbook()
    s = wb.add_sheet("s")
    s.input("A1", "3")
    s.formula("B1", s.ref("A1") + 1)
    s.formula("C1", s.ref("Z9") * 2 + 5)  # empty is 0
    got = evaluate(wb)
    assert got.at("s", "B1") == 4.0
    assert got.at("s", "C1") == 5.0


def _sheet_with(values):
    wb = Workbook()
    s = wb.add_sheet("s")
    for i, v in enumerate(values):
        if v is not None:
            s.input((0, i), v)
    return wb, s


@pytest.mark.parametrize(
    ("values", "fn", "exp"),
    [
        ([1, 2, "x", True, None], sum_, 3.0),  # text, logicals, blanks in ranges are skipped
        ([1, 2, 3], sumsq, 14.0),
        ([1, "x", 3, None], count, 2.0),
        ([2, 4, "x"], average, 3.0),
        (["x"], average, DIV0),
        ([], max_, 0.0),
        ([3, -1, 2], max_, 3.0),
        ([3, -1, 2], min_, -1.0),
    ],
)
def test_range_functions(values, fn, exp):
    wb, s = _sheet_with(values)
    s.formula("A5", fn(s.range("A1:E1")))
    got = evaluate(wb).at("s", "A5")
    assert got == exp if not isinstance(exp, float) else got == pytest.approx(exp)


def test_sumproduct_and_shape_mismatch():
    wb, s = _sheet_with([1, 2, 3])
    s.input("A2", 4)
    s.input("B2", 5)
    s.input("C2", 6)
    s.formula("A5", sumproduct(s.range("A1:C1"), s.range("A2:C2")))
    s.formula("B5", sumproduct(s.range("A1:C1"), s.range("A2:B2")))
    got = evaluate(wb)
    assert got.at("s", "A5") == 1 * 4 + 2 * 5 + 3 * 6
    assert got.at("s", "B5") is VALUE


def test_error_inside_range_propagates():
    wb, s = _sheet_with([1, 2])
    s.formula("C1", lift(1) / 0)
    s.formula("A5", sum_(s.range("A1:C1")))
    s.formula("B5", count(s.range("A1:C1")))
    got = evaluate(wb)
    assert got.at("s", "A5") is DIV0
    assert got.at("s", "B5") == 2.0  # COUNT skips errors


@pytest.mark.parametrize(
    ("values", "lookup", "kind", "exp"),
    [
        ([1, 0], 1, None, 1.0),  # the lesson's isCat row
        ([0, 1], 1, None, 2.0),  # the isDog row
        ([1, 3, 5, 7], 6, None, 3.0),  # largest value <= lookup
        ([1, 3, 5, 7], 0, None, NA),
        ([7, 5, 3, 1], 4, -1, 2.0),  # smallest value >= lookup
        (["a", "B", "c"], "b", 0, 2.0),  # exact, case-insensitive
        ([1, 2, 3], 9, 0, NA),
    ],
)
def test_match(values, lookup, kind, exp):
    wb, s = _sheet_with(values)
    args = (lookup, s.range("A1:D1")) + (() if kind is None else (kind,))
    s.formula("A5", match(*args))
    assert evaluate(wb).at("s", "A5") == exp


def test_index_row_and_column():
    wb, s = _sheet_with([10, 20, 30])
    for i, v in enumerate((40, 50, 60)):
        s.input((1, i), v)
    s.formula("A5", index(s.range("A1:C1"), 2))  # one row: the index picks the column
    s.formula("B5", index(s.range("A1:C2"), 2, 3))
    s.formula("C5", index(s.range("A1:C2"), 3, 1))
    got = evaluate(wb)
    assert (got.at("s", "A5"), got.at("s", "B5"), got.at("s", "C5")) == (20.0, 60.0, REF)


def test_cross_sheet_reference_renders_sheet_name():
    wb = Workbook()
    data = wb.add_sheet("my data")
    other = wb.add_sheet("calc")
    data.input("A1", 5)
    ref = data.ref("$A$1")
    other.formula("B2", ref * 2)
    assert other["B2"].content.formula("calc") == "='my data'!$A$1*2"
    assert evaluate(wb).at("calc", "B2") == 10.0


def test_sigmoid_matches_math():
    x = 0.3
    e = exp(lift(x))
    assert value_of(e / (1 + e)) == pytest.approx(1 / (1 + math.exp(-x)), rel=1e-15)
