"""Text stays text on the way in and out; reports never carry a workbook's text into a
place where it runs."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from sheetnet.cli import main
from sheetnet.engine import NA
from sheetnet.lessons.entropy import EntropyParams
from sheetnet.pipeline import build
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.roundtrip import compare_file

TRICKY = ("=1+1", "#N/A", "@SUM(A1)", "-2", "\u202egnp.exe")


def test_text_that_looks_like_a_formula_or_an_error_stays_text(tmp_path):
    built = build("entropy", tmp_path, EntropyParams(classes=TRICKY))
    saved = read_workbook(built.path)["softmax"]
    assert "A3" not in saved.formulas and saved.values["A3"] == "=1+1"
    assert saved.values["A4"] == "#N/A" and saved.values["A4"] is not NA
    assert saved.formulas["F3"] == "=A3" and saved.values["F3"] == "=1+1"  # a copy, as text
    result = compare_file(built.path)
    assert result.ok, result.report.render()
    assert result.changes == []


def test_reports_never_carry_runnable_or_raw_text(tmp_path):
    built = build("entropy", tmp_path, EntropyParams(classes=TRICKY))
    shown = CliRunner().invoke(main, ["show", str(built.path), "--sheet", "softmax"]).output
    assert "\u202e" not in shown and "\\u202e" in shown  # a direction override, escaped
    # an input changed to formula-looking text: the CSV report quotes it
    from xlsxedit import edit

    edited = tmp_path / "edited.xlsx"
    edit(built.path, edited, 2, {"B3": "=HYPERLINK(1)"})
    got = CliRunner().invoke(main, ["compare", str(edited), "--csv"])
    rows = list(csv.reader(io.StringIO(got.output)))
    assert any("'=HYPERLINK(1)" in row for row in rows)
    assert not any(cell.startswith("=") for row in rows for cell in row)
    got = CliRunner().invoke(main, ["compare", str(edited), "--json"])
    json.loads(got.output, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_control_characters_in_names_are_refused(tmp_path):
    got = CliRunner().invoke(main, ["build", "entropy", "-o", str(tmp_path / "out"),
                                    "--classes", "a,b,c\x1b[31m,d,e"])  # fmt: skip
    assert got.exit_code == 2
    assert "--classes: a name cannot hold control characters" in got.output
    assert not (tmp_path / "out").exists()
