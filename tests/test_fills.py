"""Filled-down formulas: the compiled fast path must equal the interpreter, bit for bit."""

from __future__ import annotations

import datetime
import zipfile

import pytest

from sheetnet.engine import NUM, If, Ref, Role, Workbook, evaluate, exp, lift, sqrt
from sheetnet.engine.expr import row_renderer
from sheetnet.export.worksheet import ErrorCode, FormulaWorksheet
from sheetnet.export.xlsx import write_xlsx
from sheetnet.lessons.graddesc import GraddescParams, build


def as_single_cells(wb: Workbook) -> Workbook:
    """The same workbook with every fill written out cell by cell (interpreter only)."""
    out = Workbook()
    for sheet in wb.sheets.values():
        copy = out.add_sheet(sheet.name)
        copy.cells = dict(sheet.cells)
        for f in sheet.fills:
            for row in range(f.first, f.last + 1):
                copy.cells[row, f.col] = f.cell(row)
    return out


@pytest.mark.parametrize(
    "params",
    [
        GraddescParams(epochs=5),
        GraddescParams(epochs=8, lr={"basic": 0.01, "momentum": 0.05, "rmsprop": 50.0}),
        GraddescParams(epochs=3, rows=6, start_sq=1e-300, lr={"adam": 1e300}),
    ],
)
def test_compiled_bands_equal_the_interpreter(params):
    wb = build(params)
    fast, slow = evaluate(wb), evaluate(as_single_cells(wb))
    got, exp_ = dict(fast.items()), dict(slow.items())
    assert got.keys() == exp_.keys()
    diff = [k for k in exp_ if got[k] != exp_[k] and got[k] is not exp_[k]]
    assert diff == []


def test_errors_in_a_band_come_from_the_interpreter():
    wb = Workbook()
    s = wb.add_sheet("s")
    for r, v in enumerate([1.0, 0.0, -1.0, 800.0, "x", 2.0]):
        s.input((r, 0), v)
    s.fill("B", 1, 6, lift(1) / s.ref("A1"))
    s.fill("C", 1, 6, sqrt(s.ref("A1")) + exp(s.ref("A1")))
    s.fill("D", 1, 6, s.ref("B1") * 2)  # reads column B of its own row
    got = evaluate(wb)
    assert (got.at("s", "B1"), got.at("s", "B3"), got.at("s", "B6")) == (1.0, -1.0, 0.5)
    assert got.at("s", "B2").code == "#DIV/0!"
    assert got.at("s", "C3") is NUM and got.at("s", "C4") is NUM  # SQRT(-1), EXP(800)
    assert got.at("s", "B5").code == "#VALUE!"
    assert got.at("s", "D2").code == "#DIV/0!" and got.at("s", "D6") == 1.0


def test_unsupported_formulas_still_fill():
    wb = Workbook()
    s = wb.add_sheet("s")
    for r in range(5):
        s.input((r, 0), float(r))
    s.fill("B", 1, 5, If(s.ref("A1") > 2, "big", s.ref("A1") * 10))
    got = evaluate(wb)
    assert [got.at("s", f"B{r}") for r in range(1, 6)] == [0.0, 10.0, 20.0, "big", "big"]


def test_fill_renders_like_fill_down():
    wb = Workbook()
    s = wb.add_sheet("s")
    s.fill("C", 4, 9, s.ref("A4") * s.ref("$B$1") + Ref("data", 4, 1) - s.ref("C3"))
    assert s["C4"].content.formula("s") == "=A4*$B$1+data!B5-C3"
    assert s["C9"].content.formula("s") == "=A9*$B$1+data!B10-C8"
    at = row_renderer(s.fills[0].expr, "s")
    assert [at(k) for k in range(6)] == [s[f"C{4 + k}"].content.formula("s") for k in range(6)]


def test_writing_into_a_fill_replaces_one_cell():
    wb = Workbook()
    s = wb.add_sheet("s")
    s.fill("B", 1, 5, s.ref("A1") + 1)
    s.input("B3", 7.0)
    assert s["B3"].role is Role.INPUT
    assert s["B2"].content.formula("s") == "=A2+1" and s["B4"].content.formula("s") == "=A4+1"
    assert s.formula_count() == 4
    with pytest.raises(ValueError, match="overlaps"):
        s.fill("B", 4, 8, s.ref("A4"))


CELLS = [  # formula, cached value: every kind of value, and text that needs escaping
    ("=A1*$B$1+data!B5-C3", 1.5), ("=SQRT(SUMSQ(K4:K32))", 0.1 + 0.2),
    ('=IF(A1>2,"b&ig",A1*10)', "b&ig"), ("=-(2^2)", -4.0), ("=INDEX(E2:F2,H2)", "#N/A"),
    ("=A1<B1", True), ("=A1>=B1", False), ("=1/0", "#DIV/0!"), ('="<x>"', "<x>"),
    ("=A1", ""), ("=EXP(800)", "#NUM!"), ("=2", 1e-300),
]  # fmt: skip


def test_rendered_formulas_are_written_as_xlsxwriter_writes_them(tmp_path):
    import xlsxwriter

    xml = []
    for how in ("xlsxwriter", "sheetnet"):
        path = tmp_path / f"{how}.xlsx"
        book = xlsxwriter.Workbook(path, {"in_memory": True})
        book.set_properties({"created": datetime.datetime(2020, 1, 1)})
        bold = book.add_format({"bold": True})
        if how == "xlsxwriter":
            ws = book.add_worksheet("s")
        else:
            ws = book.add_worksheet("s", worksheet_class=FormulaWorksheet)
        ws.set_column(1, 1, 20)  # a width alone gives no format to inherit
        ws.set_column(2, 2, 20, bold)  # a column format is inherited
        for i, (formula, value) in enumerate(CELLS):
            for col, fmt in ((0, None), (1, None), (2, None), (3, bold)):
                if how == "xlsxwriter":
                    ws.write_formula(i, col, formula, fmt, value)
                else:  # the engine hands errors over as ErrorCode, text as str
                    error = isinstance(value, str) and value.startswith("#")
                    ws.write_rendered(i, col, formula, fmt, ErrorCode(value) if error else value)
        book.close()
        xml.append(zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml"))
    assert xml[0] == xml[1]


def test_fills_are_written_with_their_values(tmp_path):
    wb = build(GraddescParams(epochs=2))
    results = evaluate(wb)
    path = write_xlsx(wb, results, tmp_path / "g.xlsx")
    import openpyxl

    ws = openpyxl.load_workbook(path)["adam"]
    assert ws["H40"].value == "=C40-J40*$D$2/SQRT(L40)"
    values = openpyxl.load_workbook(path, data_only=True)["adam"]
    assert values["H40"].value == pytest.approx(results.at("adam", "H40"), rel=1e-15)
