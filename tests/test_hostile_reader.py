"""The reader and the parser against crafted workbooks: one line, exit 2 (or the right
value), bounded time; the fast path never accepts what an XML parser would refuse."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheetnet.cli import main

M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def mk(path: Path, sheets: list[tuple[str, str | bytes]], strings=None, entries=None) -> Path:
    """A minimal workbook: (sheet name, the inside of its sheetData, or a whole part)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="x"/>')
        listed = entries or "".join(
            f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
            for i, (n, _) in enumerate(sheets)
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{M}" xmlns:r="{R}"><sheets>{listed}</sheets></workbook>',
        )
        rels = "".join(_rel(i) for i in range(len(sheets)))
        if strings:
            rels += f'<Relationship Id="rS" Type="{R}/sharedStrings" Target="sharedStrings.xml"/>'
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="x">{rels}</Relationships>')
        for i, (_, data) in enumerate(sheets):
            if isinstance(data, str):
                data = (f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{M}">'
                        f"<sheetData>{data}</sheetData></worksheet>").encode()  # fmt: skip
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", data)
        if strings:
            items = "".join(f"<si><t>{s}</t></si>" for s in strings)
            z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{M}">{items}</sst>')
    return path


def _entry(i: int, name: str) -> str:
    return f'<sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'


def _rel(i: int) -> str:
    target = f"worksheets/sheet{i + 1}.xml"
    return f'<Relationship Id="rId{i + 1}" Type="{R}/worksheet" Target="{target}"/>'


def row(r: int, *cells: str) -> str:
    return f'<row r="{r}">{"".join(cells)}</row>'


def run(*args: object):
    started = time.monotonic()
    got = CliRunner().invoke(main, [str(a) for a in args])
    assert time.monotonic() - started < 30
    return got


def refused(got, message: str) -> None:
    assert got.exit_code == 2, got.output
    lines = got.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error:"), got.output
    assert message in lines[0], lines[0]


@pytest.mark.parametrize(
    "cells, message",
    [
        ('<row r="1"><c r="A1" t="str"><v>&#99999999999999999999999;</v></c></row>', "XML"),
        ('<row r="1"><c r="A1" t="str"><v>x&#xD800;y</v></c></row>', "XML"),
        ('<row r="1"><c r="A1" foo><v>5</v></c></row>', "XML"),
        ('<row r="1"><c r="A1" t="str"><v>a&b</v></c></row>', "XML"),
        (
            row(1, '<c r="A1" t="str"><v>x</v></c>') + row(2, '<c r="A2"><v>1_000</v></c>'),
            "holds '1_000' as a number",
        ),
        ('<row r="1"><c r="A1" t="b"><v>2</v></c></row>', "as a logical"),
        ('<row r="1"><c r="A1" t="str"><v>' + "x" * 32_768 + "</v></c></row>", "32,767"),
        (
            '<row r="1"><c r="A1" t="inlineStr"><is><t>' + "x" * 32_768 + "</t></is></c></row>",
            "32,767",
        ),
        ('<row r="1"><c r="XFE1"><v>7</v></c></row>', "outside Excel's grid"),
        ('<row r="1"><c r="A0"><v>7</v></c></row>', "outside Excel's grid"),
    ],
)
def test_what_an_xml_parser_refuses_the_fast_path_refuses_too(tmp_path, cells, message):
    refused(run("show", mk(tmp_path / "bad.xlsx", [("S", cells)])), message)


def test_a_column_seen_once_does_not_open_the_grid_beyond_it(tmp_path):
    good = mk(tmp_path / "good.xlsx", [("S", '<row r="1"><c r="XFD1"><v>1</v></c></row>')])
    assert run("show", good).exit_code == 0
    xfe = mk(tmp_path / "xfe.xlsx", [("S", row(1, '<c r="XFE1"><v>7</v></c>'))])
    refused(run("show", xfe), "outside Excel's grid")


def test_a_sheet_hidden_in_a_comment_is_not_read(tmp_path):
    part = (f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{M}"><!-- <sheetData><row '
            'r="1"><c r="A1"><v>666</v></c></row></sheetData> --><sheetData><row r="1"><c r="A1">'
            "<v>1</v></c></row></sheetData></worksheet>").encode()  # fmt: skip
    got = run("show", mk(tmp_path / "decoy.xlsx", [("S", part)]))
    assert got.exit_code == 0 and "666" not in got.output


def test_attributes_in_any_quoting_are_read(tmp_path):
    cells = '<row r="1"><c r="A1" t=\'s\'><v>0</v></c><c r="B1" t = "s"><v>0</v></c></row>'
    got = run("show", mk(tmp_path / "q.xlsx", [("S", cells)], strings=["hello"]))
    assert got.exit_code == 0 and got.output.count("hello") == 2


def test_many_sheets_and_wide_sheets_are_bounded(tmp_path):
    entries = "".join(f'<sheet name="S{i}" sheetId="{i + 1}" r:id="rId1"/>' for i in range(5_000))
    many = mk(tmp_path / "many.xlsx", [("S", '<row r="1"><c r="A1"><v>1</v></c></row>')],
              entries=entries)  # fmt: skip
    refused(run("verify", many, "--app", "sheetnet"), "more than 1,000 sheets")
    wide = (
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="59000"><c r="ALL59000"><v>2</v></c></row>'
    )
    spread = mk(tmp_path / "spread.xlsx", [(f"S{i}", wide) for i in range(8)])
    refused(run("verify", spread, "--app", "sheetnet"), "the engine evaluates workbooks of at most")


@pytest.mark.parametrize(
    "formula, kept",
    [
        ("SUM(OFFSET(A1,0,0,1048576,16384))", "too large"),
        ("(" * 3000 + "1" + ")" * 3000, "nested more than"),
        ("+".join(["A1"] * 1000), "nested more than"),
    ],
)
def test_formulas_the_engine_cannot_hold_keep_their_value(tmp_path, formula, kept):
    cells = f'<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f>{formula}</f><v>1</v></c></row>'
    got = run("verify", mk(tmp_path / "f.xlsx", [("S", cells)]), "--app", "sheetnet")
    assert got.exit_code == 0, got.output
    assert "keep their saved value" in got.output and kept in got.output


def test_an_offset_past_the_grid_is_ref(tmp_path):
    edge = "<f>SUM(OFFSET(A1,1048570,0,10,1))</f><v>0</v>"
    cells = row(1, '<c r="A1"><v>1</v></c>', f'<c r="B1">{edge}</c>')
    got = run("verify", mk(tmp_path / "edge.xlsx", [("S", cells)]), "--app", "sheetnet")
    assert got.exit_code == 1 and "#REF!" in got.output
