"""`check`: the engine's value of every formula cell against the numpy reference."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..build import compute
from ..engine import NUM, Const, Ref, Workbook, address
from ..lessons import get
from .report import Report


def _excel(value: object) -> object:
    """numpy overflows to inf (then nan); Excel has neither and shows #NUM! instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return NUM
    return value


def _front(wb: Workbook, expected: dict) -> dict:
    """The front sheet (the kit's, not the lesson's) only shows other cells: each of its
    formulas is a copy, whose expected value is the copied cell's."""
    out: dict = {}
    front = wb.sheets.get("front")
    for row, col, cell in front.formula_cells() if front is not None else ():
        content = cell.content
        if isinstance(content, Ref):
            key = (content.sheet, address.render(content.row, content.col))
            if key in expected:
                out["front", address.render(row, col)] = expected[key]
        elif isinstance(content, Const):
            out["front", address.render(row, col)] = content.value
    return out


def check_lesson(
    lesson: str,
    params: Any = None,
    rtol: float = 1e-12,
    perturb: Callable[[dict], None] | None = None,
) -> Report:
    """Compare every formula cell; a formula cell the reference does not cover is a failure.

    `perturb` may change the reference's values first (to show the check can fail)."""
    spec = get(lesson)
    params = params if params is not None else spec.params()
    wb, results = compute(lesson, params)
    with np.errstate(all="ignore"):  # overflow is expected when training diverges
        expected = spec.reference(params)
    if perturb is not None:
        perturb(expected)
    report = Report(f"{lesson}: engine vs numpy reference", rtol=rtol)
    expected.update(_front(wb, expected))
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
            report.compare(
                sheet.name, a1, _excel(expected[sheet.name, a1]), results[sheet.name, row, col]
            )
    return report
