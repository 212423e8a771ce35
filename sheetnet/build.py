"""Build a lesson: model, evaluation, .xlsx. The one pipeline the CLI and tests share."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine import Results, Workbook, evaluate
from .export.fingerprint import untouched
from .export.xlsx import write_xlsx
from .lessons import get
from .metadata import properties_for


@dataclass
class Built:
    lesson: str
    workbook: Workbook
    results: Results
    path: Path | None
    formula_cells: int
    seconds_eval: float
    seconds_write: float


def compute(lesson: str, params: Any = None) -> tuple[Workbook, Results]:
    """The lesson's model and every cell's value, without writing anything."""
    spec = get(lesson)
    params = params if params is not None else spec.params()
    wb = spec.build(params)
    wb.properties.update(properties_for(lesson, params))
    return wb, evaluate(wb)


class EditedWorkbook(ValueError):
    """The target holds a workbook someone changed since sheetnet wrote it."""


def build(
    lesson: str, outdir: str | os.PathLike[str], params: Any = None, force: bool = False
) -> Built:
    """Build `lesson` into `outdir`/<its file name>; never over a learner's edits unless forced."""
    spec = get(lesson)
    target = Path(outdir) / spec.filename
    if target.exists() and not force and not untouched(target):
        raise EditedWorkbook(
            f"{target} was changed since sheetnet wrote it (edited in a spreadsheet?); "
            "not overwriting: use --force, or -o to write elsewhere"
        )
    t0 = time.perf_counter()
    wb, results = compute(lesson, params)
    t1 = time.perf_counter()
    path = write_xlsx(wb, results, target)
    t2 = time.perf_counter()
    return Built(lesson, wb, results, path, wb.formula_count(), t1 - t0, t2 - t1)
