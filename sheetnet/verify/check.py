"""`check`: the engine's value of every formula cell against the numpy reference."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import NUM, address
from ..lessons import get
from ..lessons.kit import front_expected
from ..pipeline import compute
from .report import Report


def _excel(value: object) -> object:
    """numpy overflows to inf (then nan); Excel has neither and shows #NUM! instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return NUM
    return value


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
    expected.update(front_expected(wb, expected))
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
