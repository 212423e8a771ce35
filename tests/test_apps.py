"""Each application's documented differences from Excel, demonstrated in that application."""

from __future__ import annotations

import pytest

from sheetnet.engine import Call, Range, Ref, Workbook, evaluate, lift
from sheetnet.export.xlsx import write_xlsx
from sheetnet.verify.apps import APPS
from sheetnet.verify.readback import read_workbook

COLUMN = Range(Ref("in", 0, 0), Ref("in", 2, 0))
# (application, formula, what the application gives) for every listed difference
DIFFERENCES = [
    ("libreoffice", Call("SQRT", -1.0), "#VALUE!"),
    ("libreoffice", Call("LN", 0.0), "#VALUE!"),
    ("libreoffice", Call("LOG", 8.0, 1.0), "#VALUE!"),
    ("libreoffice", Call("INDEX", COLUMN, 7.0, 1.0), "#VALUE!"),
    ("libreoffice", lift(0.0) ** -1.0, "#NUM!"),
    ("gnumeric", Call("LOG", 8.0, 1.0), "#NUM!"),
    ("gnumeric", Call("EXP", 800.0), float("inf")),
    ("gnumeric", Call("MATCH", lift(1.0) / 0.0, COLUMN, 1.0), "#N/A"),
    # entropy_example's own lookup of the true class in a one-hot row, 1 then 0
    ("ironcalc", Call("MATCH", 1.0, Range(Ref("in", 0, 1), Ref("in", 1, 1))), 2.0),
    ("ironcalc", lift(1e300) ** 2.0, "#DIV/0!"),
]


@pytest.mark.parametrize("name", list(APPS))
def test_each_listed_difference_is_real_and_accepted(name, tmp_path, request):
    app = request.getfixturevalue(name)
    cases = [(f, v) for a, f, v in DIFFERENCES if a == name]
    assert cases
    wb = Workbook()
    inputs = wb.add_sheet("in")
    for i, (v, one_hot) in enumerate([(1.0, 1.0), (2.0, 0.0), (3.0, 0.0)]):
        inputs.input((i, 0), v)
        inputs.input((i, 1), one_hot)
    out = wb.add_sheet("out")
    for i, (formula, _) in enumerate(cases):
        out.formula((i, 0), formula)
    results = evaluate(wb)
    path = write_xlsx(wb, results, tmp_path / "differences.xlsx")
    got = read_workbook(app.recalculate(path, tmp_path / "app"))["out"].values
    for i, (formula, theirs) in enumerate(cases):
        value = got[f"A{i + 1}"]
        shown = value.code if hasattr(value, "code") else value
        assert shown == theirs, formula.formula("out")
        excel = results["out", i, 0]
        assert excel != value
        assert app.known_difference(excel, value, formula.formula("out"), {}), shown
