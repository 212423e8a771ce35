"""The streamed reader and the engine as a verifier of any workbook."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from sheetnet.cli import main
from sheetnet.engine.errors import ExcelError
from sheetnet.reader import read_workbook
from sheetnet.verify.apps.libreoffice import recalculate
from sheetnet.verify.report import normalise

ROOT = Path(__file__).resolve().parents[1]
WORKBOOKS = sorted((ROOT / "workbooks").glob("*.xlsx"))


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.stem)
def test_the_reader_agrees_with_openpyxl_cell_for_cell(path):
    mine = read_workbook(path)
    with_formulas = openpyxl.load_workbook(path, read_only=True)
    with_values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    assert list(mine) == with_formulas.sheetnames
    for ws_f, ws_v in zip(with_formulas.worksheets, with_values.worksheets):
        sheet = mine[ws_f.title]
        exp_formulas = {
            c.coordinate: c.value
            for row in ws_f.iter_rows()
            for c in row
            if getattr(c, "data_type", None) == "f"
        }
        assert dict(sheet.formulas.items()) == exp_formulas  # shared members filled out
        exp_values = {}
        for row in ws_v.iter_rows():
            for c in row:
                if getattr(c, "value", None) is not None:
                    exp_values[c.coordinate] = (
                        ExcelError(c.value) if c.data_type == "e" else normalise(c.value)
                    )
        assert sheet.values == exp_values


def test_show_reads_only_the_sheet_it_shows(tmp_path):
    big = tmp_path / "big.xlsx"
    src = ROOT / "workbooks" / "entropy_example.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet4.xml":  # damaged: never read by show
                data = data.replace(b"<sheetData>", b"<sheetData><row r='x'>")
            zout.writestr(info, data)
    got = run("show", big, "--sheet", "softmax", "--rows", "1:3")
    assert got.exit_code == 0, got.output


def _with_sheet(tmp: Path, xml: bytes, name: str = "bad.xlsx", extra=()) -> Path:
    src = ROOT / "workbooks" / "entropy_example.xlsx"
    dst = tmp / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = xml if info.filename == "xl/worksheets/sheet2.xml" else zin.read(info)
            zout.writestr(info.filename, data)
        for part, data in extra:
            zout.writestr(part, data)
    return dst


SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
    b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>%s'
    b"</sheetData></worksheet>"
)


@pytest.mark.parametrize(
    "rows, message",
    [
        (b'<row r="1000000000000"/>', "outside Excel's grid"),
        (b'<row r="1e12"/>', "outside Excel's grid"),
        (b'<row r="1"><c r="ZZZZ1"/></row>', "outside Excel's grid"),
        (b'<row r="2"/><row r="1"/>', "comes after row 2"),
        (b'<row r="1"><c r="B1"/><c r="A1"/></row>', "comes before an earlier cell"),
        (b'<row r="1"><c r="A1" t="s"><v>99999</v></c></row>', "shared text"),
        (b'<row r="1"><c r="A1"><f t="shared" si="7"/><v>1</v></c></row>', "has none"),
    ],
)
def test_a_sheet_beyond_the_grid_or_out_of_order_is_one_line(tmp_path, rows, message):
    bad = _with_sheet(tmp_path, SHEET % rows)
    for command in (["show", "--sheet", "softmax"], ["compare"], ["verify", "--app", "sheetnet"]):
        started = time.monotonic()
        got = run(*command, bad)
        assert got.exit_code == 2, got.output
        assert message in got.output and len(got.output.strip().splitlines()) == 1, got.output
        assert time.monotonic() - started < 20


def test_many_empty_far_cells_cost_what_the_file_holds(tmp_path):
    rows = b"".join(b'<row r="%d"><c r="ZZ%d"/></row>' % (r, r) for r in range(1, 200_001))
    bad = _with_sheet(tmp_path, SHEET % rows)
    started = time.monotonic()
    got = run("show", bad, "--sheet", "softmax", "--rows", "1:2")
    assert time.monotonic() - started < 30
    assert got.exit_code in (0, 2), got.output


def test_a_duplicate_part_name_is_refused(tmp_path):
    bad = _with_sheet(tmp_path, SHEET % b"", extra=[("xl/worksheets/sheet2.xml", b"<x/>")])
    got = run("show", bad)
    assert got.exit_code == 2 and "two parts share a name" in got.output


def test_an_entity_declaration_in_utf16_is_refused(tmp_path):
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'
    bad = _with_sheet(tmp_path, SHEET % b"", extra=[("docProps/evil.xml", xml.encode("utf-16"))])
    got = run("show", bad)
    assert got.exit_code == 2 and "declares XML entities" in got.output


def test_sheets_are_found_by_relationship_not_by_part_number(tmp_path):
    # a workbook whose only sheet is stored as sheet7.xml, as other tools may name it
    wb = openpyxl.Workbook()
    wb.active.title = "only"
    wb.active["A1"] = 2
    wb.active["A2"] = "=A1*3"
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    moved = tmp_path / "moved.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(moved, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info).replace(b"worksheets/sheet1.xml", b"worksheets/sheet7.xml")
            zout.writestr(info.filename.replace("sheet1.xml", "sheet7.xml"), data)
    assert read_workbook(moved)["only"].formulas["A2"] == "=A1*3"


@pytest.mark.parametrize("name", ["entropy_example", "backprop"])
def test_the_engine_verifies_committed_workbooks_from_the_file_alone(name):
    got = run("verify", ROOT / "workbooks" / f"{name}.xlsx", "--app", "sheetnet")
    assert got.exit_code == 0, got.output
    assert "OK: all cells agree" in got.output


def test_the_engine_agrees_with_libreoffice_on_a_workbook_another_tool_made(libreoffice, tmp_path):
    """A teacher's workbook written by openpyxl (no cached values): LibreOffice computes
    and saves it; the engine, reading only that file, must find the same values."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "my data"
    for r, (x, y) in enumerate([(1, 3.5), (2, 5.1), (3, 7.2), (4, 8.8)], start=2):
        ws[f"A{r}"], ws[f"B{r}"] = x, y
        ws[f"C{r}"] = f"=$F$1+$F$2*A{r}"
        ws[f"D{r}"] = f"=(C{r}-B{r})^2"
        ws[f"E{r}"] = f'=IF(D{r}>0.5,"far","near")&" "&ROUND(D{r},2)'
    ws["F1"], ws["F2"] = 1.5, "=150%"
    ws["F3"] = "=SUM(D2:D5)/COUNT(D2:D5)"
    ws["F4"] = "=SQRT(F3)+-2^2"
    ws["F5"] = "=OFFSET(B2,2,0)*LOG(1000)"
    ws["F6"] = "=MAX(B2:B3,B5,-1)+MIN(A2:A5)"
    ws["F7"] = "=INDEX(B2:B5,MATCH(7.2,B2:B5,0),1)"
    ws["F8"] = "=RAND()"
    other = wb.create_sheet("it's here")
    other["A1"] = "='my data'!F3*2"
    src = tmp_path / "teacher.xlsx"
    wb.save(src)
    saved = recalculate(src, tmp_path / "lo")
    got = run("verify", saved, "--app", "sheetnet")
    assert got.exit_code == 0, got.output
    assert "OK: all cells agree" in got.output
    assert "1 cell(s) with RAND keep their saved value" in got.output
    values = read_workbook(saved)["my data"].values
    # by hand: predictions 1.5 + 1.5x = 3, 4.5, 6, 7.5; squared errors .25 .36 1.44 1.69
    assert values["F4"] == pytest.approx(((0.25 + 0.36 + 1.44 + 1.69) / 4) ** 0.5 + 4)
