"""The written .xlsx: formulas with cached values, errors as errors, text as text, determinism."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sheetnet.engine import Workbook, evaluate, lift
from sheetnet.export.xlsx import write_xlsx
from sheetnet.lessons import LESSONS
from sheetnet.pipeline import build, compute

ROOT = Path(__file__).resolve().parents[1]


def test_cached_values_are_what_pandas_reads(tmp_path):
    built = build("entropy", tmp_path)
    frame = pd.read_excel(built.path, sheet_name="softmax", header=None)
    # D8 (row 8, column D) is the sum of the softmax column: 1.
    assert frame.iat[7, 3] == pytest.approx(1.0, rel=1e-15)
    assert frame.iat[2, 2] == pytest.approx(built.results.at("softmax", "C3"), rel=1e-15)


def test_formulas_and_values_read_back(tmp_path):
    built = build("entropy", tmp_path)
    formulas = openpyxl.load_workbook(built.path)
    values = openpyxl.load_workbook(built.path, data_only=True)
    for sheet in built.workbook.sheets.values():
        for row, col, cell in sheet.formula_cells():
            f = formulas[sheet.name].cell(row + 1, col + 1).value
            v = values[sheet.name].cell(row + 1, col + 1).value
            assert f == cell.content.formula(sheet.name)
            exp = built.results[sheet.name, row, col]
            assert v == (pytest.approx(exp, rel=1e-15) if isinstance(exp, float) else exp)


def test_errors_cached_as_errors_and_text_as_text(tmp_path):
    wb = Workbook()
    s = wb.add_sheet("s")
    s.formula("A1", lift(1) / 0)
    s.input("B1", '=HYPERLINK("http://x")')  # user text that looks like a formula
    s.input("C1", "+1")
    s.label("D1", "@SUM(A1)")
    path = write_xlsx(wb, evaluate(wb), tmp_path / "t.xlsx")
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="A1" t="e"><f>1/0</f><v>#DIV/0!</v></c>' in xml
    assert "<f>" not in xml.split('r="B1"')[1]  # B1..D1 hold no formula
    got = openpyxl.load_workbook(path)["s"]
    assert [got[a].data_type for a in ("B1", "C1", "D1")] == ["s", "s", "s"]
    assert got["B1"].value == '=HYPERLINK("http://x")'


def test_input_cells_look_different_from_formula_cells(tmp_path):
    built = build("entropy", tmp_path)
    ws = openpyxl.load_workbook(built.path)["softmax"]
    input_fill = ws["B3"].fill.fgColor.rgb
    assert input_fill != ws["C3"].fill.fgColor.rgb
    assert ws["B1"].font.b  # headers are bold
    assert ws.freeze_panes == "B3"
    assert ws["D3"].comment is not None


def test_two_builds_are_byte_identical(tmp_path):
    a = build("entropy", tmp_path / "a").path.read_bytes()
    b = build("entropy", tmp_path / "b").path.read_bytes()
    assert a == b


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_committed_workbooks_are_fresh(tmp_path, lesson):
    committed = ROOT / "workbooks" / LESSONS[lesson].filename
    fresh = build(lesson, tmp_path).path
    assert committed.exists(), f"{committed} missing: run `sheetnet build`"
    assert committed.read_bytes() == fresh.read_bytes(), (
        f"{committed.name} is stale: run `sheetnet build` and commit workbooks/"
    )


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    import sheetnet.export.xlsx as xlsx

    wb, results = compute("entropy")
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"previous contents")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(xlsx, "_populate", boom)
    with pytest.raises(OSError):
        write_xlsx(wb, results, target)
    assert target.read_bytes() == b"previous contents"
    assert list(tmp_path.iterdir()) == [target]


def test_defined_names_are_written(tmp_path):
    wb = Workbook()
    s = wb.add_sheet("my sheet")
    s.input("B2", 0.5)
    s.formula("C2", s.ref("B2") * 2)
    wb.define_name("rate", s.ref("B2"))
    wb.define_name("block", s.range("B2:C2"))
    path = write_xlsx(wb, evaluate(wb), tmp_path / "names.xlsx")
    got = openpyxl.load_workbook(path).defined_names
    assert got["rate"].attr_text == "'my sheet'!$B$2"
    assert got["block"].attr_text == "'my sheet'!$B$2:$C$2"


def test_cached_numbers_read_back_as_the_same_floats():
    """The fast number texts: every float of every exponent reads back exactly, in
    xsd:double's lexical form, an exponent always signed (as Excel writes one)."""
    import math
    import random
    import re
    import struct

    from sheetnet.export.worksheet import _number_texts

    rng = random.Random(7)
    floats = [0.0, -0.0, 1e16, 1e-5, 1e-4, 5e-324, 1.7976931348623157e308, 0.1, 123.0]
    floats += [m * 10.0**e for e in range(-300, 300, 7) for m in (1.0, -1.5, 9.87654321)]
    floats += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(5000)]
    floats = [f for f in floats if f == f and abs(f) != float("inf")]
    double = re.compile(r"-?(\d+(\.\d*)?|\.\d+)(e[+-]\d+)?")
    texts = _number_texts([*floats, None, "text"])
    assert texts[-2:] == ["null", "null"]
    for value, text in zip(floats, texts):
        assert float(text) == value, (value, text)
        assert text.startswith("-") == (math.copysign(1.0, value) < 0), (value, text)
        assert double.fullmatch(text), text


def test_print_setup_is_written(tmp_path):
    """Print areas (several ranges, each printed on pages of its own), a fixed scale in
    place of fitting to one page wide, and the line atop each page."""
    wb = Workbook()
    s = wb.add_sheet("my sheet")
    s.input("A1", 0.5)
    s.formula("B1", s.ref("A1") * 2)
    s.print_areas = [(0, 0, 3, 2), (0, 5, 1, 5)]
    s.print_scale = 60
    s.print_note = "the first part"
    fitted = wb.add_sheet("fitted")
    fitted.input("A1", 1.0)
    path = write_xlsx(wb, evaluate(wb), tmp_path / "print.xlsx")
    got = openpyxl.load_workbook(path)
    ws = got["my sheet"]
    assert ws.print_area == "'my sheet'!$A$1:$C$4,'my sheet'!$F$1:$F$2"
    assert ws.page_setup.scale == 60 and not ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.oddHeader.center.text == "the first part"
    other = got["fitted"]
    assert other.sheet_properties.pageSetUpPr.fitToPage and other.page_setup.fitToHeight == 0
    assert not other.print_area and not other.oddHeader.center.text
