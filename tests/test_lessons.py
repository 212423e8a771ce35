"""The common suite: every registered lesson passes these, or it is not done.

Lesson-specific tests (test_<lesson>.py) keep only each lesson's own point.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from xlsxedit import edit

from sheetnet.cli import main
from sheetnet.engine import Call, Expr, Role, address, evaluate
from sheetnet.engine.functions import FUNCTIONS
from sheetnet.lessons import LESSONS
from sheetnet.lessons.contract import LessonParams, ParamError
from sheetnet.lessons.kit import workbook
from sheetnet.metadata import lesson_of, properties_for, read_custom_properties
from sheetnet.pipeline import build, compute
from sheetnet.verify.check import check_lesson
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.recalc import verify_file
from sheetnet.verify.roundtrip import compare_file

ROOT = Path(__file__).resolve().parents[1]
NAMES = list(LESSONS)
EXAMPLES = [(name, i) for name in NAMES for i in range(len(LESSONS[name].examples()))]
# Functions every application evaluates alike (each function says so, engine/functions.py);
# no volatile functions (OFFSET, RAND, NOW...), no array formulas.
PORTABLE = {name for name, f in FUNCTIONS.items() if f.portable} | {"IF"}


def example(name: str, i: int):
    return LESSONS[name].examples()[i]


_BUILT: dict = {}


def default_build(name: str, tmp_path_factory):
    """The lesson built with its defaults, once per test session."""
    if name not in _BUILT:
        _BUILT[name] = build(name, tmp_path_factory.mktemp(name))
    return _BUILT[name]


# -- the engine against the independent reference ------------------------------------------
@pytest.mark.parametrize(("name", "i"), EXAMPLES)
def test_reference_covers_every_formula_cell_and_agrees(name, i):
    params = example(name, i)
    report = check_lesson(name, params)
    assert report.ok, report.render()
    wb, _ = compute(name, params)
    assert sum(s.compared for s in report.sheets.values()) == wb.formula_count()


@pytest.mark.parametrize("name", NAMES)
def test_the_check_fails_when_one_reference_value_is_off(name):
    params = example(name, 0)
    chosen = []

    def nudge(expected: dict) -> None:
        key = next(k for k, v in sorted(expected.items()) if isinstance(v, float) and v != 0)
        expected[key] *= 1 + 1e-9
        chosen.append(key)

    report = check_lesson(name, params, perturb=nudge)
    assert not report.ok
    assert [(m.sheet, m.cell) for m in report.mismatches()] == chosen


@pytest.mark.parametrize("name", NAMES)
def test_random_valid_parameters_agree_with_the_reference(name):
    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(LESSONS[name].strategy())
    def check(params):
        report = check_lesson(name, params)
        assert report.ok, report.render()

    check()


@pytest.mark.parametrize("name", NAMES)
def test_the_predicted_cell_count_is_the_real_one(name):
    """The size limit is checked on the prediction before anything is built: it must be
    the count the builder then makes, for the defaults and random parameters."""
    lesson = LESSONS[name]
    assert lesson.params().formula_cells() == lesson.sheets(lesson.params()).formula_count()

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lesson.strategy())
    def check(params):
        assert params.formula_cells() == lesson.sheets(params).formula_count()

    check()


@pytest.mark.parametrize("name", NAMES)
def test_a_workbook_over_the_size_limit_is_refused_before_it_is_built(name, monkeypatch):
    lesson = LESSONS[name]
    cells = lesson.params().formula_cells()
    monkeypatch.setattr(lesson.params, "MAX_FORMULA_CELLS", cells - 1)
    with pytest.raises(ParamError, match=f"about {cells:,} formula cells; at most {cells - 1:,}"):
        lesson.params()


@pytest.mark.parametrize(("name", "i"), EXAMPLES)
def test_compiled_equals_interpreted_bit_for_bit(name, i):
    wb = workbook(LESSONS[name], example(name, i))
    fast, slow = evaluate(wb), evaluate(wb, compiled=False)
    got, exp = dict(fast.items()), dict(slow.items())
    assert got.keys() == exp.keys()
    assert [k for k in exp if got[k] != exp[k] and got[k] is not exp[k]] == []


# -- formulas every spreadsheet reads the same way -----------------------------------------
@pytest.mark.parametrize(("name", "i"), EXAMPLES)
def test_formulas_are_portable(name, i):
    wb = workbook(LESSONS[name], example(name, i))
    for sheet in wb.sheets.values():
        exprs = [c.content for c in sheet.cells.values() if c.role is Role.FORMULA]
        exprs += [f.expr for f in sheet.fills]
        for expr in exprs:
            for node in expr.walk():  # type: ignore[union-attr]
                name_ = getattr(node, "name", None)
                if isinstance(node, Call):
                    assert name_ in PORTABLE, f"{sheet.name}: {expr.formula(sheet.name)}"
                    if name_ == "INDEX":  # Gnumeric reads a lone index differently
                        assert len(node.args) == 3, expr.formula(sheet.name)


# -- files --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_builds_are_byte_identical_and_the_committed_workbook_is_fresh(name, tmp_path):
    one = build(name, tmp_path / "one").path.read_bytes()
    two = build(name, tmp_path / "two").path.read_bytes()
    assert one == two
    committed = ROOT / "workbooks" / LESSONS[name].filename
    assert committed.read_bytes() == one, f"{committed} is stale: run `sheetnet build {name}`"


@pytest.mark.parametrize(("name", "i"), EXAMPLES)
def test_parameters_survive_the_document_properties(name, i, tmp_path):
    params = example(name, i)
    built = build(name, tmp_path, params)
    props = read_custom_properties(built.path)
    assert props == properties_for(name, params)
    from sheetnet.verify.roundtrip import region_reader

    recorded = lesson_of(props, region_reader(read_workbook(built.path)))
    assert recorded.lesson == name
    assert recorded.params == params


@pytest.mark.parametrize(("name", "i"), EXAMPLES)
def test_an_untouched_file_compares_ok(name, i, tmp_path):
    built = build(name, tmp_path, example(name, i))
    result = compare_file(built.path)
    assert result.ok, result.report.render()
    assert result.changes == []
    for key in result.key_results:
        assert key.before == key.after


def first_numeric_input(wb) -> tuple[int, str, str, float]:
    """(sheet number, sheet, cell, value) of the workbook's first non-zero number input."""
    for number, sheet in enumerate(wb.sheets.values(), start=1):
        for (row, col), cell in sorted(sheet.cells.items()):
            if cell.role is Role.INPUT and isinstance(cell.content, float) and cell.content:
                return number, sheet.name, address.render(row, col), cell.content
    raise AssertionError("no numeric input")


@pytest.mark.parametrize(("name", "i"), EXAMPLES[:1] + [e for e in EXAMPLES if e[1] == 1])
def test_an_input_edited_and_recalculated_by_each_app_compares_ok(name, i, app, tmp_path):
    params = example(name, i)
    built = build(name, tmp_path, params)
    number, sheet, cell, value = first_numeric_input(built.workbook)
    edited = tmp_path / "edited.xlsx"
    edit(built.path, edited, number, {cell: value * 1.25})
    saved = app.recalculate(edited, tmp_path / "saved")
    result = compare_file(saved)
    assert result.ok, result.report.render()
    assert [(c.kind, c.sheet, c.cell) for c in result.changes] == [("input", sheet, cell)]
    assert result.changes[0].after == pytest.approx(value * 1.25, rel=1e-14)


def test_every_app_agrees_with_every_committed_workbook(app):
    for lesson in LESSONS.values():
        report = verify_file(ROOT / "workbooks" / lesson.filename, app=app)
        assert report.ok, report.render()
        assert any("recalculation confirmed" in n for n in report.notes)


@pytest.mark.parametrize("name", NAMES)
def test_key_results_are_numbers_computed_by_formulas(name, tmp_path_factory):
    built = default_build(name, tmp_path_factory)
    wb, results = built.workbook, built.results
    keys = LESSONS[name].key_results(built.params)
    assert keys
    for key in keys:
        cell = wb[key.sheet][key.a1]
        assert isinstance(cell.content, Expr), key
        assert isinstance(results.at(key.sheet, key.a1), float), key


# -- bad options ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "args", "message"),
    [(n, args, msg) for n in NAMES for args, msg in LESSONS[n].bad_options],
)
def test_invalid_options_are_refused_in_one_line(name, args, message, tmp_path):
    out = tmp_path / "out"
    got = CliRunner().invoke(main, ["build", name, "-o", str(out), *args])
    assert got.exit_code == 2, got.output
    lines = got.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error:"), got.output
    assert message in lines[0]
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_lesson_declares_its_bad_options_and_examples(name):
    assert issubclass(LESSONS[name].params, LessonParams)
    lesson = LESSONS[name]
    assert lesson.bad_options, "declare refusals the common suite can try"
    assert lesson.examples()
    for f in dataclasses.fields(lesson.params):
        assert f.metadata.get("help"), f"{name}.{f.name} has no help"
