"""The formula parser: the inverse of rendering, Excel's precedence, refusals by name."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from test_properties import CORNERS, EXPRESSIONS, _Inputs, node_value

from sheetnet.engine import Ref
from sheetnet.engine.errors import DIV0, ExcelError
from sheetnet.engine.parse import FormulaNotSupported, VolatileFunction, parse_formula
from sheetnet.lessons import LESSONS
from sheetnet.lessons.kit import workbook


def _lesson_formulas():
    """Every distinct formula shape of every lesson: single cells, and each fill's
    first and last cell (a fill's cells are its first one shifted)."""
    for name, lesson in LESSONS.items():
        wb = workbook(lesson, lesson.params())
        for sheet in wb.sheets.values():
            for (_row, _col), cell in sheet.cells.items():
                if cell.role.value == "formula":
                    yield name, sheet.name, cell.content.formula(sheet.name)
            for f in sheet.fills:
                yield name, sheet.name, f.expr.formula(sheet.name)
                yield name, sheet.name, f.expr_at(f.last, f.last_col).formula(sheet.name)


def test_every_lesson_formula_renders_back_to_its_own_text():
    seen = 0
    for lesson, host, text in _lesson_formulas():
        assert parse_formula(text, host).formula(host) == text, (lesson, host, text)
        seen += 1
    assert seen > 1000  # every lesson contributed


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS)
def test_a_parsed_rendering_evaluates_bit_for_bit_as_the_expression(expr):
    exp = node_value(expr, _Inputs())
    got = node_value(parse_formula(expr.formula("in"), "in"), _Inputs())
    if isinstance(exp, float) and isinstance(got, float):
        assert math.copysign(1, exp) == math.copysign(1, got) or exp == 0.0
        assert exp == got or (math.isnan(exp) and math.isnan(got))
    else:
        assert exp == got or exp is got


def test_corners_survive_the_round_trip():
    for expr in CORNERS:
        again = parse_formula(expr.formula("in"), "in")
        assert node_value(again, _Inputs()) == node_value(expr, _Inputs())


class _Cells:
    """A1 = 3, B1 = 'x', C1 = 2 on sheet 's'; 'my sheet''s'!A1 = 10."""

    def cell(self, sheet, row, col):
        values = {("s", 0, 0): 3.0, ("s", 0, 1): "x", ("s", 0, 2): 2.0, ("my sheet's", 0, 0): 10.0}
        return values.get((sheet, row, col))

    def grid(self, sheet, r1, c1, r2, c2):
        return _Inputs().grid(sheet, r1, c1, r2, c2)


@pytest.mark.parametrize(
    "text, exp",
    [
        ("=-2^2", 4.0),  # unary minus binds tighter than ^ in Excel
        ("=-A1^2", 9.0),
        ("=0-A1^2", -9.0),
        ("=2^3^2", 64.0),  # left to right: (2^3)^2
        ("=2*3+4*5", 26.0),
        ("=10-4-3", 3.0),
        ("=50%", 0.5),
        ("=2^200%", 2.0**2.0),
        ("=A1&B1", "3x"),
        ('=1/4&""', "0.25"),
        ("=1+2&3", "33"),  # & is looser than +
        ("=1+1=2", True),  # comparison is loosest
        ("='my sheet''s'!A1*2", 20.0),
        ("=exp(0) + ln( 1 )", 1.0),  # lower case and spaces
        ("=_xlfn.LOG(100)", 2.0),  # the prefix Excel writes for newer functions
        ("=LOG(8,2)", 3.0),
        ('=IF(A1>2,"big","small")', "big"),
        ("=1/0", DIV0),
        ("=#N/A", ExcelError("#N/A")),
        ("=TRUE+1", 2.0),
        ("=OFFSET(A1,0,2)", 2.0),
        ("=OFFSET(A1,0,C1)", 2.0),
        ("=+A1", 3.0),
        ("=1.5E+2", 150.0),
    ],
)
def test_parsed_formulas_evaluate_as_excel_does(text, exp):
    got = parse_formula(text, "s").evaluate(_Cells())
    assert got == exp or got is exp, (text, got)


@pytest.mark.parametrize(
    "text, message",
    [
        ("=MMULT(A1:B2,A1:B2)", "MMULT is not supported"),
        ("=_xlfn.STDEV.S(A1:A3)", "STDEV.S is not supported"),
        ("={1,2;3,4}", "array constants"),
        ("=learning_rate*2", "the defined name learning_rate is not supported"),
        ("=[1]Sheet1!A1", "external reference"),
        ("=SUM(A:A)", "whole-row or -column"),
        ("=A1:B2 B1:C2", "intersection"),
        ("=SUM((A1,B1))", "union"),
        ("=XFE1", "outside Excel's grid"),
        ("=SUM(A1", "ends too early"),
        ("=1e999", "not a number Excel can hold"),
        ("=IF(A1)", "IF takes 2 or 3 arguments"),
        ("=" + "1+" * 5000 + "1", "too long"),
    ],
)
def test_what_the_engine_cannot_evaluate_is_refused_by_name(text, message):
    with pytest.raises(FormulaNotSupported) as info:
        parse_formula(text, "s")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_volatile_functions_are_named_as_such():
    with pytest.raises(VolatileFunction) as info:
        parse_formula("=RAND()*2", "s")
    assert info.value.function == "RAND"


def test_references_keep_their_sheet_and_anchors():
    expr = parse_formula("='a b'!$C$4", "host")
    assert expr == Ref("a b", 3, 2, True, True)
    assert parse_formula("=c4", "host") == Ref("host", 3, 2)


def test_a_filled_column_is_parsed_once_and_shifted_exactly():
    """parse_formula_at reuses a column's first parse for the rest: the result must be
    what parsing each cell's own text gives, for every lesson's fills."""
    from sheetnet.engine.expr import cell_renderer
    from sheetnet.engine.parse import parse_formula_at

    for _lesson, lesson in LESSONS.items():
        wb = workbook(lesson, lesson.params())
        for sheet in wb.sheets.values():
            for f in sheet.fills[:50]:
                text_at = cell_renderer(f.expr, sheet.name)
                for row, col in list(f.positions())[:20]:
                    text = text_at(row - f.first, col - f.col)
                    got = parse_formula_at(text, sheet.name, row, col)
                    assert got == parse_formula(text, sheet.name), text


def test_a_sheet_named_like_a_cell_is_not_shifted():
    from sheetnet.engine.parse import parse_formula_at

    first = parse_formula_at("abc1!A1*2", "s", 0, 0)
    second = parse_formula_at("abc2!A2*2", "s", 1, 0)  # the same shape, another sheet
    assert first == Ref("abc1", 0, 0) * 2
    assert second == Ref("abc2", 1, 0) * 2
