"""The notebook API: build and open workbooks from Python, frames named by headers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sheetnet as sn
from sheetnet.lessons import LESSONS


def test_the_api_is_listed_and_the_lessons_are_a_table():
    for name in ("build", "open", "lessons", "params", "SheetnetError", "read_sheet"):
        assert name in dir(sn)
    table = sn.lessons()
    assert list(table.index) == list(LESSONS)
    assert table.loc["digits", "file"] == "digits.xlsx"


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_every_lesson_builds_from_python_with_an_option(lesson, tmp_path):
    example = LESSONS[lesson].examples()[0]
    options = {
        f: getattr(example, f)
        for f in LESSONS[lesson].option_names()
        if getattr(example, f) is not None and not isinstance(getattr(example, f), dict)
    }
    wb = sn.build(lesson, **options)
    assert wb.params == example or all(getattr(wb.params, k) == v for k, v in options.items())
    keys = wb.key_results
    assert len(keys) == len(LESSONS[lesson].key_results(wb.params))
    path = wb.save(tmp_path / "out.xlsx")
    again = sn.open(path)
    assert again.sheet_names == wb.sheet_names
    report = again.verify("sheetnet")
    assert report.ok


def test_a_frame_is_named_by_the_sheets_headers_and_typed():
    wb = sn.build("digits", epochs=1, train=20, valid=10, batch_size=10)
    progress = wb.frame("progress")
    assert "validation accuracy" in progress.columns
    accuracy = progress["validation accuracy"].dropna()
    assert accuracy.dtype == np.float64 and len(accuracy) >= 1
    assert ((accuracy >= 0) & (accuracy <= 1)).all()
    formulas = wb.formulas("progress")
    assert formulas.shape == progress.shape
    assert formulas["validation accuracy"].dropna().str.startswith("=").all()


def test_an_opened_file_gives_the_same_frame_as_the_build(tmp_path):
    wb = sn.build("graddesc", epochs=2)
    built = wb.frame("basic")
    opened = sn.open(wb.save(tmp_path / "g.xlsx")).frame("basic")
    assert list(opened.columns) == list(built.columns)
    np.testing.assert_allclose(
        opened.select_dtypes("number").to_numpy(), built.select_dtypes("number").to_numpy(),
        rtol=1e-15,
    )  # fmt: skip


def test_errors_are_shown_as_their_code():
    wb = sn.build("graddesc", epochs=2, lr="adam=1e300")
    frames = [wb.frame(name) for name in wb.sheet_names]
    shown = {v for f in frames for col in f.columns for v in f[col] if isinstance(v, str)}
    assert "#NUM!" in shown


@pytest.mark.parametrize(
    "options, message",
    [
        ({"epochs": "two"}, "epochs: 'two' is not a whole number"),
        ({"epochs": 2.5}, "epochs: expected a whole number"),
        ({"epochs": 0}, "epochs: must be at least"),
        ({"seed": -1}, "seed: must be a whole number from 0"),
        ({"speed": 3}, "graddesc has no option 'speed'"),
    ],
)
def test_a_bad_option_raises_one_error_naming_it(options, message):
    with pytest.raises(sn.SheetnetError) as info:
        sn.build("graddesc", **options)
    assert message in str(info.value)


def test_an_unknown_lesson_and_an_unreadable_file_are_sheetnet_errors(tmp_path):
    with pytest.raises(sn.SheetnetError, match="unknown lesson"):
        sn.build("calculus")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(sn.SheetnetError, match=r"not an \.xlsx workbook"):
        sn.open(bad)


def test_compare_returns_a_result_object(tmp_path):
    path = sn.build("entropy").save(tmp_path / "e.xlsx")
    result = sn.open(path).compare()
    assert result.ok and result.lesson == "entropy" and not result.changes


def test_the_html_view_shows_headers_formulas_on_hover_and_inputs():
    wb = sn.build("entropy")
    html = wb._repr_html_()
    assert "softmax" in html and "output" in html  # a sheet and one of its headers
    assert "=EXP(" in html  # a formula, in a tooltip
    assert "#FFF2CC" in html  # an input cell, in the workbook's yellow
    assert not math.isnan(wb.frame("softmax").select_dtypes("number").sum().sum())
