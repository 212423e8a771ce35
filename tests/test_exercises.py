"""Exercise workbooks and `sheetnet grade`: the learner writes the formulas, evaluation judges."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from xlsxedit import fill

from sheetnet.cli import main
from sheetnet.engine import address
from sheetnet.exercises import placed
from sheetnet.lessons import LESSONS
from sheetnet.pipeline import build_exercises, compute
from sheetnet.reader import Package, read_workbook
from sheetnet.verify.apps.libreoffice import recalculate


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def small(lesson: str):
    """A quick parameter set of the lesson (its first example)."""
    return LESSONS[lesson].examples()[0]


def answers(lesson: str, params) -> dict[str, dict[str, tuple[str, object]]]:
    """sheet -> A1 -> (sheetnet's formula, its value) of every exercise cell."""
    spec = LESSONS[lesson]
    if spec.exercise_params:
        params = spec.exercise_params(params)
    wb, results = compute(lesson, params)
    out: dict[str, dict[str, tuple[str, object]]] = {}
    for p in placed(spec, wb):
        for sheet, row, col in p.cells:
            expr = wb[sheet].cell(row, col).content
            a1 = address.render(row, col)
            out.setdefault(sheet, {})[a1] = (expr.formula(sheet), results[sheet, row, col])
    return out


def formulas(lesson: str, params) -> dict[str, dict[str, object]]:
    return {s: {a1: f for a1, (f, _) in c.items()} for s, c in answers(lesson, params).items()}


def filled(path: Path, tmp: Path, cells: dict[str, dict[str, object]]) -> Path:
    """A copy of the exercise workbook with `cells` (sheet -> A1 -> content) written."""
    with Package(path) as package:
        parts = package.parts
    src = path
    for k, (sheet, contents) in enumerate(cells.items()):
        dst = tmp / f"filled{k}.xlsx"
        fill(src, dst, parts[sheet], contents)
        src = dst
    return src


@pytest.fixture(scope="module", params=list(LESSONS))
def exercise_file(request, tmp_path_factory):
    lesson = request.param
    out = tmp_path_factory.mktemp(lesson)
    return lesson, build_exercises(lesson, out, small(lesson)).path


def test_every_lesson_has_three_exercises_from_easy_to_hard():
    for lesson in LESSONS.values():
        levels = [e.level for e in lesson.exercises]
        assert len(levels) >= 3 and levels == sorted(levels) and levels[0] < levels[-1]


def test_no_answer_is_anywhere_in_the_file(exercise_file):
    """No part of the file (sheets, shared strings, notes, properties, charts) holds an
    exercise cell's formula, nor the value cached for it. A number that equals an
    answer by the lesson's own math may stay elsewhere: ReLU(z) is z for z > 0, and the
    -ln(p) table shows -ln(0.5); so values are checked on the exercise cells."""
    lesson, path = exercise_file
    with zipfile.ZipFile(path) as z:
        text = b"".join(z.read(name) for name in z.namelist()).decode("utf-8", "replace")
    unescaped = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    saved = read_workbook(path)
    for sheet, cells in answers(lesson, small(lesson)).items():
        for a1, (formula, _value) in cells.items():
            assert f">{formula[1:]}<" not in unescaped, (sheet, a1, formula)
            assert saved[sheet].values.get(a1) is None, (sheet, a1)


def test_the_layout_is_the_lessons_and_the_cells_are_empty(exercise_file):
    lesson, path = exercise_file
    saved = read_workbook(path)
    for sheet, cells in answers(lesson, small(lesson)).items():
        for a1 in cells:
            assert a1 not in saved[sheet].formulas and a1 not in saved[sheet].values
    assert "exercises" in saved
    marks = [v for v in saved["exercises"].values.values() if v == "not yet"]
    assert len(marks) == len(LESSONS[lesson].exercises)


def test_an_untouched_exercise_workbook_grades_not_attempted(exercise_file):
    _, path = exercise_file
    got = run("grade", path)
    assert got.exit_code == 1, got.output
    assert "NOT ATTEMPTED" in got.output and "NOT YET: 0 of" in got.output


def test_sheetnets_own_formulas_filled_in_grade_correct_and_self_check_done(
    exercise_file, libreoffice, tmp_path
):
    """Each exercise filled with the formulas sheetnet would write, then saved by
    LibreOffice (recalculated): grade says correct, the self-checks say done."""
    lesson, path = exercise_file
    cells = {
        s: {a1: f for a1, (f, _) in c.items()} for s, c in answers(lesson, small(lesson)).items()
    }
    saved = recalculate(filled(path, tmp_path, cells), tmp_path / "lo")
    got = run("grade", saved)
    assert got.exit_code == 0, got.output
    assert f"OK: {len(LESSONS[lesson].exercises)} of" in got.output
    checks = read_workbook(saved)["exercises"].values
    marks = [v for v in checks.values() if v in ("done", "not yet", "check again")]
    assert marks == ["done"] * len(LESSONS[lesson].exercises), marks


def test_the_right_numbers_typed_in_are_wrong(exercise_file, tmp_path):
    lesson, path = exercise_file
    cells = {s: {a1: v for a1, (_, v) in c.items() if isinstance(v, float)}
             for s, c in answers(lesson, small(lesson)).items()}  # fmt: skip
    got = run("grade", "--json", filled(path, tmp_path, cells))
    assert got.exit_code == 1
    verdicts = json.loads(got.output)["exercises"]
    assert all(v["status"] == "wrong" for v in verdicts)
    assert all("typed" in v["hint"] for v in verdicts)


ENTROPY = "entropy"


@pytest.fixture(scope="module")
def entropy_exercises(tmp_path_factory):
    return build_exercises(ENTROPY, tmp_path_factory.mktemp("ex")).path


def entropy_answers(**changes) -> dict[str, dict[str, object]]:
    """sheetnet's formulas for entropy's exercises, with some replaced."""
    cells = {s: {a1: f for a1, (f, _) in c.items()}
             for s, c in answers(ENTROPY, LESSONS[ENTROPY].params()).items()}  # fmt: skip
    for key, formula in changes.items():
        sheet, a1 = key.split("__")
        cells[sheet][a1] = formula
    return cells


def grade_of(path: Path, tmp: Path, cells) -> dict[str, dict]:
    got = run("grade", "--json", filled(path, tmp, cells))
    assert got.exit_code in (0, 1), got.output
    return {v["name"]: v for v in json.loads(got.output)["exercises"]}


def test_equivalent_formulas_in_another_form_are_correct(entropy_exercises, tmp_path):
    cells = entropy_answers()
    for n in range(3, 8):
        cells["softmax"][f"D{n}"] = f"=EXP(B{n})/SUM(C$3:C$7)"
        cells["softmax"][f"C{n}"] = f"=exp(b{n})"  # lower case, as a learner may type
    for n in range(2, 7):
        cells["entropy"][f"G{n}"] = f"=-(B{n}*LOG(C{n},EXP(1))+(1-B{n})*LN(1-C{n}))"
    verdicts = grade_of(entropy_exercises, tmp_path, cells)
    assert all(v["status"] == "correct" for v in verdicts.values()), verdicts


def test_log_instead_of_ln_is_recognised(entropy_exercises, tmp_path):
    cells = entropy_answers()
    for n in range(2, 7):
        cells["entropy"][f"G{n}"] = f"=-B{n}*LOG(C{n})-(1-B{n})*LOG(1-C{n})"
    verdict = grade_of(entropy_exercises, tmp_path, cells)["bce"]
    assert verdict["status"] == "wrong" and verdict["cell"] == "entropy!G2"
    assert "LN" in verdict["hint"]


def test_a_fill_without_dollar_signs_is_recognised(entropy_exercises, tmp_path):
    cells = entropy_answers()
    for n in range(3, 8):
        cells["softmax"][f"D{n}"] = f"=C{n}/C{n + 5}"  # C3/C8 filled down: the sum moves
    verdict = grade_of(entropy_exercises, tmp_path, cells)["softmax"]
    assert verdict["status"] == "wrong" and verdict["cell"] == "softmax!D4"
    assert "$" in verdict["hint"]


def test_a_flipped_sign_is_recognised(tmp_path):
    path = build_exercises("graddesc", tmp_path / "g", small("graddesc")).path
    cells = {
        s: {a1: f for a1, (f, _) in c.items()}
        for s, c in answers("graddesc", small("graddesc")).items()
    }
    cells["basic"] = {a1: ("=-" + f[1:] if a1.startswith("L") else f)
                      for a1, f in cells["basic"].items()}  # fmt: skip
    verdict = grade_of(path, tmp_path, cells)["gradient"]
    assert verdict["status"] == "wrong" and "sign" in verdict["hint"]


def test_a_formula_that_fits_only_these_inputs_is_wrong(entropy_exercises, tmp_path):
    """The softmax divided by the sum's value typed in: right on the file's numbers,
    wrong on any other."""
    from sheetnet.lessons.entropy import EntropyParams

    total = sum(__import__("math").exp(x) for x in EntropyParams().outputs)
    cells = entropy_answers()
    for n in range(3, 8):
        cells["softmax"][f"D{n}"] = f"=C{n}/{total!r}"
    verdict = grade_of(entropy_exercises, tmp_path, cells)["softmax"]
    assert verdict["status"] == "wrong" and "other inputs" in verdict["inputs"]


def test_compare_sends_an_exercise_workbook_to_grade(entropy_exercises):
    got = run("compare", entropy_exercises)
    assert got.exit_code == 2 and "sheetnet grade" in got.output


def test_an_unreadable_file_is_exit_two(tmp_path):
    bad = tmp_path / "x.xlsx"
    bad.write_text("no")
    got = run("grade", bad)
    assert got.exit_code == 2 and len(got.output.strip().splitlines()) == 1


def test_the_front_sheet_keeps_score(entropy_exercises, libreoffice, tmp_path):
    cells = entropy_answers()
    saved = recalculate(filled(entropy_exercises, tmp_path, cells), tmp_path / "lo")
    front = read_workbook(saved)["front"].values
    done = [a1 for a1, v in front.items() if v == "exercises done"]
    assert done
    row = re.sub(r"[A-Z]+", "", done[0])
    assert front[f"B{row}"] == 3.0


def test_a_file_saved_by_gnumeric_grades_alike(entropy_exercises, gnumeric, tmp_path):
    saved = gnumeric.recalculate(filled(entropy_exercises, tmp_path, entropy_answers()),
                                 tmp_path / "gnumeric")  # fmt: skip
    got = run("grade", saved)
    assert got.exit_code == 0, got.output


def test_a_column_filled_by_dragging_as_excel_saves_it_grades_correct(entropy_exercises, tmp_path):
    """Excel saves a dragged fill as one shared formula: the first cell holds the text,
    the others point at it."""
    cells = entropy_answers()
    path = filled(entropy_exercises, tmp_path, cells)
    with Package(path) as package:
        part = package.parts["softmax"]
    dragged = tmp_path / "dragged.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(dragged, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = data.replace(
                    b"<f>C3/$C$8</f>", b'<f t="shared" ref="D3:D7" si="90">C3/$C$8</f>'
                )
                for n in range(4, 8):
                    data = data.replace(f"<f>C{n}/$C$8</f>".encode(), b'<f t="shared" si="90"/>')
            zout.writestr(info, data)
    assert b'si="90"/>' in zipfile.ZipFile(dragged).read(part)
    got = run("grade", "--json", dragged)
    verdicts = {v["name"]: v for v in json.loads(got.output)["exercises"]}
    assert verdicts["softmax"]["status"] == "correct", verdicts["softmax"]
