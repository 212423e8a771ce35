"""Build a lesson: model, evaluation, .xlsx. The one pipeline the CLI and tests share."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine import Results, Workbook, evaluate
from .export.xlsx import write_xlsx
from .lessons import get


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
    wb = spec.build(params if params is not None else spec.params())
    return wb, evaluate(wb)


def build(lesson: str, outdir: str | os.PathLike[str], params: Any = None) -> Built:
    """Build `lesson` into `outdir`/<its file name>."""
    spec = get(lesson)
    t0 = time.perf_counter()
    wb, results = compute(lesson, params)
    t1 = time.perf_counter()
    path = write_xlsx(wb, results, Path(outdir) / spec.filename)
    t2 = time.perf_counter()
    return Built(lesson, wb, results, path, wb.formula_count(), t1 - t0, t2 - t1)
