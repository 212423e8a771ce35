"""The learner's round trip: edit in a spreadsheet, save, and `compare` with Python."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from xlsxedit import edit, set_cached

from sheetnet import read_sheet
from sheetnet.cli import main
from sheetnet.engine import Ref, Workbook, abs_, evaluate, max_
from sheetnet.lessons.graddesc import GraddescParams
from sheetnet.pipeline import build
from sheetnet.verify.apps.libreoffice import recalculate
from sheetnet.verify.local import RoundingLevel
from sheetnet.verify.roundtrip import STALE_CELL, compare_file, render_comparison

# Sheet numbers in the file, in the order the lessons add them.
# (the front sheet comes first)
GRADDESC = {"data": 2, "basic": 3, "momentum": 4, "rmsprop": 5, "adam": 6, "adam_ann": 7}
ENTROPY = {"softmax": 2, "entropy": 3, "log_entropy": 4}


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def saved_by_libreoffice(src: Path, edits: dict[int, dict[str, object]], tmp: Path) -> Path:
    """Apply `edits` (sheet number -> {cell: value}), then LibreOffice recalculates and saves."""
    path = src
    for i, (sheet, cells) in enumerate(edits.items()):
        nxt = tmp / f"step{i}.xlsx"
        edit(path, nxt, sheet, cells)
        path = nxt
    return recalculate(path, tmp / "saved")


@pytest.fixture(scope="module")
def graddesc_file(tmp_path_factory):
    return build("graddesc", tmp_path_factory.mktemp("g"), GraddescParams(epochs=4)).path


@pytest.fixture(scope="module")
def entropy_file(tmp_path_factory):
    return build("entropy", tmp_path_factory.mktemp("e")).path


def test_graddesc_inputs_changed_in_libreoffice_agree(libreoffice, graddesc_file, tmp_path):
    saved = saved_by_libreoffice(graddesc_file, {
        GRADDESC["data"]: {"C1": 12.0, "C2": -0.5, "B9": 77.0},
        GRADDESC["adam"]: {"D2": 0.05, "J1": 0.8, "L1": 0.99},
        GRADDESC["momentum"]: {"C1": 3.0, "C2": -2.0, "J3": 0.5},
        GRADDESC["adam_ann"]: {"D2": 0.5},
    }, tmp_path)  # fmt: skip
    got = run("compare", saved)
    assert got.exit_code == 0, got.output
    assert "OK: all cells agree" in got.output
    for change in (
        "data!C1: 30.0 -> 12.0",
        "data!B9: 28.0 -> 77.0",
        "adam!D2: 0.1 -> 0.05",
        "momentum!J3: 0.0 -> 0.5",
        "adam_ann!D2: 1.0 -> 0.5",
    ):
        assert change in got.output
    assert "inputs changed: 10" in got.output


def test_entropy_inputs_changed_in_libreoffice_agree(libreoffice, entropy_file, tmp_path):
    saved = saved_by_libreoffice(entropy_file, {
        ENTROPY["softmax"]: {"A3": "lion", "B4": 1.5, "G7": -4.0},
        ENTROPY["entropy"]: {"B2": 0.0, "C2": 0.25},
        ENTROPY["log_entropy"]: {"B3": 0.0, "D3": 0.125},
    }, tmp_path)  # fmt: skip
    got = run("compare", saved, "--json")
    assert got.exit_code == 0, got.output
    report = json.loads(got.output)
    assert report["ok"] and report["lesson"] == "entropy"
    changed = {c["cell"]: c["after"] for c in report["changes"]}
    assert changed == {"softmax!A3": "lion", "softmax!B4": 1.5, "softmax!G7": -4.0,
                       "entropy!B2": 0.0, "entropy!C2": 0.25, "log_entropy!B3": 0.0,
                       "log_entropy!D3": 0.125}  # fmt: skip
    # the class name flows into F3 by formula, and the MATCH follows the new label
    frame = read_sheet(saved, "softmax")
    assert frame.loc[3, "F"] == "lion"
    assert read_sheet(saved, "log_entropy").loc[3, "H"] == 2


def test_a_tampered_value_is_named(libreoffice, graddesc_file, tmp_path):
    saved = saved_by_libreoffice(graddesc_file, {GRADDESC["basic"]: {"F1": 0.0002}}, tmp_path)
    tampered = tmp_path / "tampered.xlsx"
    set_cached(saved, tampered, GRADDESC["rmsprop"], "H20", 123.25)
    got = run("compare", tampered, "--csv")
    assert got.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(got.output)))
    mismatches = [r for r in rows if r["kind"] == "mismatch"]
    assert [(r["cell"], float(r["workbook"])) for r in mismatches] == [("rmsprop!H20", 123.25)]
    assert [r["cell"] for r in rows if r["kind"] == "input changed"] == ["basic!F1"]


def test_a_wrong_formula_is_evaluated_and_named(libreoffice, graddesc_file, tmp_path):
    saved = saved_by_libreoffice(
        graddesc_file, {GRADDESC["momentum"]: {"E10": "=C10+D10*A10+1"}}, tmp_path
    )
    got = run("compare", saved)
    assert got.exit_code == 1
    assert "formulas edited: 1" in got.output
    assert "momentum!E10: =C10+D10*A10+1 [NOT equivalent" in got.output
    # the learner's formula is evaluated in the model: what follows it was recomputed
    # from it, so LibreOffice's values downstream agree with Python's
    assert "first cells that moved: momentum!E10, " in got.output
    assert "cells disagree" not in got.output
    assert got.output.rstrip().splitlines()[-1] == (
        "  FAILED: 1 formula(s) rewritten and not equivalent to sheetnet's: momentum!E10"
    )


def test_an_equivalent_rewrite_is_ok_and_named(libreoffice, graddesc_file, tmp_path):
    # y = b + a*x written the other way round, in lower case, with spaces and brackets;
    # and a whole filled column's neighbour rewritten with LN for LOG(x, EXP(1))-style
    saved = saved_by_libreoffice(
        graddesc_file, {GRADDESC["momentum"]: {"E10": "=(d10*a10) + c10", "E11": "=C11+D11*A11"}},
        tmp_path,
    )  # fmt: skip
    got = run("compare", saved)
    assert got.exit_code == 0, got.output
    assert "momentum!E10: =(D10*A10)+C10 [equivalent" in got.output.replace(" + ", "+") or (
        "momentum!E10: =(d10*a10) + c10 [equivalent" in got.output
    ), got.output
    assert "OK: 1 formula(s) rewritten, each equivalent to sheetnet's" in got.output


def test_an_input_written_as_a_formula_is_an_input_with_its_value(
    libreoffice, graddesc_file, tmp_path
):
    saved = saved_by_libreoffice(graddesc_file, {GRADDESC["adam"]: {"D2": "=0.01*5"}}, tmp_path)
    got = run("compare", saved)
    assert got.exit_code == 0, got.output
    assert "adam!D2: 0.01 -> =0.01*5" in got.output or "adam!D2:" in got.output
    assert "OK: all cells agree" in got.output


def test_an_unsupported_function_is_pinned_and_named(graddesc_file, tmp_path):
    edited = tmp_path / "edited.xlsx"
    edit(graddesc_file, edited, GRADDESC["momentum"], {"E10": "=MMULT(C10,D10)"})
    got = run("compare", edited)
    assert got.exit_code == 1
    assert "momentum!E10: =MMULT(C10,D10) [pinned: MMULT is not supported]" in got.output


def test_stale_values_without_recalculation_are_mismatches(graddesc_file, tmp_path):
    edited = tmp_path / "edited.xlsx"
    edit(graddesc_file, edited, GRADDESC["data"], {"C1": 10.0})
    got = run("compare", edited)
    assert got.exit_code == 1
    assert "data!C5" in got.output  # y = C1 + x*C2 changed, its cached value did not
    assert "the file's values are stale" in got.output and "--recalc" in got.output


def test_recalc_option(libreoffice, graddesc_file, tmp_path):
    edited = tmp_path / "edited.xlsx"
    edit(graddesc_file, edited, GRADDESC["data"], {"C1": 10.0})
    got = run("compare", edited, "--recalc")
    assert got.exit_code == 0, got.output
    assert "recalculated by LibreOffice" in got.output


def test_not_a_sheetnet_workbook(tmp_path):
    import xlsxwriter

    path = tmp_path / "other.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet().write(0, 0, 1)
    book.close()
    got = run("compare", path)
    assert got.exit_code == 2
    assert "not a sheetnet workbook" in got.output and "Traceback" not in got.output


def test_show_values_and_formulas(entropy_file):
    got = run("show", entropy_file, "--sheet", "softmax", "--rows", "1:8")
    assert got.exit_code == 0, got.output
    lines = got.output.splitlines()
    assert lines[0].split()[:4] == ["row", "A", "B", "C"]
    row8 = next(line for line in lines if line.lstrip().startswith("8 "))
    assert "12.6981" in row8  # C8 = SUM of exps, 6 significant digits
    got = run("show", entropy_file, "--sheet", "softmax", "--formulas", "--rows", "3:3")
    assert "=EXP(B3)" in got.output and "=C3/$C$8" in got.output
    assert run("show", entropy_file, "--sheet", "nope").exit_code == 2
    assert run("show", entropy_file, "--rows", "9:2").exit_code == 2


def test_read_sheet_dataframe(entropy_file):
    frame = read_sheet(entropy_file, "entropy")
    assert frame.loc[4, "D"] == pytest.approx(1.0, rel=1e-15)  # -LOG10(0.1)
    assert list(frame.columns[:3]) == ["A", "B", "C"]
    assert read_sheet(entropy_file, "entropy", formulas=True).loc[2, "D"].startswith("=-B2*LOG")


def test_brackets_an_application_leaves_out_are_not_an_edit(graddesc_file, tmp_path):
    """IronCalc writes (((C4+0.01)+A4*D4)-B4)^2 as (C4+0.01+A4*D4-B4)^2: the same
    operations in the same order, so the same formula."""
    edited = tmp_path / "respelled.xlsx"
    edit(graddesc_file, edited, GRADDESC["basic"], {"E10": "=(C10+(D10*A10))"})
    got = run("compare", edited)
    assert "no inputs changed, no formulas edited" in got.output, got.output


def test_a_file_not_recalculated_says_so_first(graddesc_file, tmp_path):
    edited = tmp_path / "edited.xlsx"
    edit(graddesc_file, edited, GRADDESC["data"], {"C1": 10.0})
    got = run("compare", edited)
    assert got.exit_code == 1
    assert got.output.splitlines()[0].startswith("NOT RECALCULATED:")


# -- what compare calls a difference: stale, no value, drift, rounding level -------------
BACKPROP_GRADCHECK = 4  # the gradcheck sheet's number (front, data, train, gradcheck)


def saved_formula_values(path: Path) -> dict[tuple[str, str], object]:
    """Every formula cell's saved value, read by openpyxl (not by sheetnet's reader)."""
    import openpyxl

    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    return {
        (ws.title, c.coordinate): values[ws.title][c.coordinate].value
        for ws in formulas.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    }


def _same(a: object, b: object) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def test_stale_cells_are_named_stale_never_drift(graddesc_file, tmp_path):
    """An input edited without recalculation: exactly the cells the edit moves are
    mismatches, each named stale. Which cells it moves comes from a second build with
    the edited value as its parameter, both files read by openpyxl. None of them is
    passed off as drift (each agrees with the file's own stale inputs)."""
    edited = tmp_path / "edited.xlsx"
    edit(graddesc_file, edited, GRADDESC["data"], {"C1": 10.0})
    other = build("graddesc", tmp_path / "b10", GraddescParams(epochs=4, true_b=10.0)).path
    before, after = saved_formula_values(graddesc_file), saved_formula_values(other)
    moved = {cell for cell, value in before.items() if not _same(value, after[cell])}
    assert len(moved) > 1000
    result = compare_file(edited)
    bad = result.report.mismatches()
    assert {(m.sheet, m.cell) for m in bad} == moved
    assert {m.reason for m in bad} == {STALE_CELL}
    assert not [m for s in result.report.sheets.values() for m in s.accepted]
    text = render_comparison(result)
    assert "drift" not in text
    assert f"{len(moved):,} cell(s) still hold their values from before your changes" in text
    assert text.splitlines()[0].startswith("NOT RECALCULATED:")


def test_a_file_saved_without_values_says_so_first(graddesc_file, tmp_path):
    """openpyxl saves formulas without values: compare says so first, names every
    cell with a value in Python 'no value saved', and calls none of them drift."""
    import openpyxl

    book = openpyxl.load_workbook(graddesc_file)
    book["data"]["C1"] = 10.0
    saved = tmp_path / "openpyxl.xlsx"
    book.save(saved)
    formula_cells = len(saved_formula_values(graddesc_file))
    got = run("compare", saved)
    assert got.exit_code == 1
    lines = got.output.splitlines()
    assert lines[0].startswith(f"NOT RECALCULATED: {formula_cells:,} formula cell(s) have no")
    assert "drift" not in got.output and "differ only as known" not in got.output
    result = compare_file(saved)
    assert {m.reason for m in result.report.mismatches()} == {"no value saved"}
    assert len(result.report.mismatches()) == formula_cells


@pytest.fixture(scope="module")
def backprop_file(tmp_path_factory):
    return build("backprop", tmp_path_factory.mktemp("b")).path


def table_row(text: str, sheet: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.split()[:1] == [sheet])


def test_rounding_noise_is_judged_by_absolute_difference(backprop_file, tmp_path):
    """gradcheck!G6 is a relative difference of two gradients that agree to ten digits:
    rounding noise. Another application's noise there (6.6e-10 for Python's 1.2e-10)
    is far apart relatively, but no alarm: the table leaves it out of max rel diff,
    marks the sheet and says in a footnote how far apart it is, absolutely."""
    python = saved_formula_values(backprop_file)["gradcheck", "G6"]
    assert 0 < python < 1e-9
    noisy = tmp_path / "noisy.xlsx"
    set_cached(backprop_file, noisy, BACKPROP_GRADCHECK, "G6", 6.6e-10)
    assert abs(6.6e-10 - python) / 6.6e-10 > 0.5  # relatively, an alarming difference
    got = run("compare", noisy)
    assert got.exit_code == 0, got.output
    assert table_row(got.output, "gradcheck")[3:] == ["0*", "0"]  # max rel diff, mismatches
    assert f"* gradcheck: 1 cell(s) at rounding level, at most {6.6e-10 - python:.3g} apart" in (
        got.output
    )
    assert "judged by their absolute difference" in got.output
    assert "OK: all cells agree" in got.output


def test_a_wrong_value_at_rounding_level_is_still_a_mismatch(backprop_file, tmp_path):
    wrong = tmp_path / "wrong.xlsx"
    set_cached(backprop_file, wrong, BACKPROP_GRADCHECK, "G6", 1e-3)
    result = compare_file(wrong)
    [m] = result.report.mismatches()
    assert (m.sheet, m.cell, m.got) == ("gradcheck", "G6", 1e-3)
    assert "absolute" in m.reason and "rounding level" in m.reason
    assert not result.ok


def test_rounding_level_is_what_inputs_within_the_tolerance_can_move():
    """The allowance of a relative difference covers what moving its two inputs by the
    tolerance does to it (measured here in plain Python), without being vacuous; a
    well-conditioned product has digits; a copy and a MAX of rounding noise are noise."""
    wb = Workbook()
    s = wb.add_sheet("s")
    x, y = 0.0183, 0.0183 * (1 + 3e-10)
    a, b = s.input("A1", x), s.input("A2", y)
    s.formula("A3", abs_(b - a) / max_(abs_(a), abs_(b)))
    s.formula("A4", a * 3.0)
    s.formula("A5", Ref("s", 2, 0))
    s.formula("A6", max_(Ref("s", 2, 0), Ref("s", 4, 0)))
    results = evaluate(wb)
    tol = 1e-9
    levels = RoundingLevel(wb, results, tol)

    def relative(p: float, q: float) -> float:
        return abs(q - p) / max(abs(p), abs(q))

    moves = [
        abs(relative(x * (1 + i * tol), y * (1 + j * tol)) - relative(x, y))
        for i in (-1, 1)
        for j in (-1, 1)
    ]
    limit = levels("s", 2, 0)
    assert limit is not None and max(moves) <= limit <= 100 * max(moves)
    assert levels("s", 3, 0) is None
    assert levels("s", 4, 0) == limit and levels("s", 5, 0) == limit


def test_libreoffice_gradcheck_noise_raises_no_alarm(libreoffice, backprop_file, tmp_path):
    """LibreOffice's own rounding leaves gradcheck's relative differences far from
    Python's, relatively (seen here with openpyxl); compare's table shows no such
    number, and its footnote counts those cells."""
    saved = libreoffice.recalculate(backprop_file, tmp_path / "saved")
    python, theirs = saved_formula_values(backprop_file), saved_formula_values(saved)
    noisy = [
        cell
        for cell, value in python.items()
        if cell[0] == "gradcheck" and cell[1].startswith("G") and not _same(value, theirs[cell])
    ]
    got = run("compare", saved)
    assert got.exit_code == 0, got.output
    row = table_row(got.output, "gradcheck")
    assert float(row[3].rstrip("*")) < 1e-6, got.output
    if noisy:
        assert row[3].endswith("*")
        assert f"* gradcheck: {len(noisy)} cell(s) at rounding level" in got.output
