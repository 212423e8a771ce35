"""A real spreadsheet application recalculates what sheetnet wrote, from scratch."""

from __future__ import annotations

import re
import zipfile

import pytest

from sheetnet.pipeline import build
from sheetnet.verify.apps.libreoffice import recalculate
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.recalc import verify_file


def test_entropy_agrees_cell_for_cell(libreoffice, tmp_path):
    built = build("entropy", tmp_path)
    report = verify_file(built.path)
    assert report.ok, report.render()
    assert sum(s.compared for s in report.sheets.values()) == built.formula_cells
    assert any("recalculation confirmed" in n for n in report.notes)


def test_known_cells_after_recalculation(libreoffice, tmp_path):
    built = build("entropy", tmp_path)
    got = read_workbook(recalculate(built.path, tmp_path / "lo"))
    assert got["softmax"].values["D8"] == pytest.approx(1.0, rel=1e-14)
    # (isCat=0, pred=0.9): -LOG(0.1) = 1; MATCH picks class 2.
    assert got["entropy"].values["D4"] == pytest.approx(1.0, rel=1e-14)
    assert got["log_entropy"].values["H4"] == 2


def test_a_wrong_cached_value_is_caught(libreoffice, tmp_path):
    built = build("entropy", tmp_path)
    tampered = tmp_path / "tampered.xlsx"
    with zipfile.ZipFile(built.path) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":  # the entropy sheet
                data = re.sub(rb'(<c r="E3"[^>]*><f>[^<]*</f><v>)[^<]*', rb"\g<1>0.5", data)
            zout.writestr(info, data)
    report = verify_file(tampered)
    assert not report.ok
    assert [(m.sheet, m.cell) for m in report.mismatches()] == [("entropy", "E3")]


def test_libreoffice_missing_is_reported(monkeypatch, tmp_path):
    from sheetnet.verify.apps import AppMissing
    from sheetnet.verify.apps import libreoffice as lo

    monkeypatch.setattr(lo.shutil, "which", lambda name: None)
    with pytest.raises(AppMissing, match="not installed"):
        lo.recalculate(tmp_path / "x.xlsx", tmp_path)


def test_committed_graddesc_agrees_cell_for_cell(libreoffice):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "workbooks" / "graddesc.xlsx"
    report = verify_file(path)
    assert report.ok, report.render()
    assert sum(s.compared for s in report.sheets.values()) > 100_000


def test_graddesc_with_other_parameters_agrees(libreoffice, tmp_path):
    from sheetnet.lessons.graddesc import GraddescParams

    params = GraddescParams(epochs=4, rows=9, seed=11, lr={"rmsprop": 0.1}, init_a=-3.0)
    built = build("graddesc", tmp_path, params)
    report = verify_file(built.path)
    assert report.ok, report.render()
    got = read_workbook(recalculate(built.path, tmp_path / "lo"))
    # a hand-checkable cell: momentum's first prediction is b + a*x = 1 + (-3)*x
    x = got["data"].values["B5"]
    assert got["momentum"].values["E4"] == pytest.approx(1 - 3 * x, rel=1e-14)
