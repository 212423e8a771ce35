"""`check`: the engine's value of every formula cell against the numpy reference."""

from __future__ import annotations

from typing import Any

from ..build import compute
from ..engine import address
from ..lessons import get
from ..reference import EXPECTED
from .report import Report


def check_lesson(lesson: str, params: Any = None, rtol: float = 1e-12) -> Report:
    """Compare every formula cell; a formula cell the reference does not cover is a failure."""
    params = params if params is not None else get(lesson).params()
    wb, results = compute(lesson, params)
    expected = EXPECTED[lesson](params)
    report = Report(f"{lesson}: engine vs numpy reference", rtol=rtol)
    for sheet in wb.sheets.values():
        for row, col, _cell in sheet.formula_cells():
            a1 = address.render(row, col)
            if (sheet.name, a1) not in expected:
                report.add_problem(
                    sheet.name,
                    a1,
                    "reference value",
                    None,
                    "no reference value for this formula cell",
                )
                continue
            report.compare(sheet.name, a1, expected[sheet.name, a1], results[sheet.name, row, col])
    return report
