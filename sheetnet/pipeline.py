"""Build a lesson: model, evaluation, .xlsx. The one pipeline the CLI and tests share."""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine import Results, Workbook, address, evaluate
from .engine.errors import NUM, ExcelError
from .export.fingerprint import untouched
from .export.xlsx import write_xlsx
from .feedback import training_feedback
from .lessons import get
from .lessons.kit import workbook
from .metadata import properties_for

Progress = Callable[[str], None]


@dataclass
class Built:
    lesson: str
    workbook: Workbook
    results: Results
    path: Path
    formula_cells: int
    seconds_eval: float
    seconds_write: float
    params: Any = None

    def warnings(self) -> list[str]:
        """Per sheet, the first formula cell whose value is an error, said the lesson's way;
        #NUM! without the lesson's own words in one line, on the sheet where it began."""
        first: dict[str, tuple[int, int, object]] = {}
        for (sheet, row, col), value in self.results.items():
            if type(value) is ExcelError and (sheet not in first or (row, col) < first[sheet][:2]):
                first[sheet] = (row, col, value)
        explain = get(self.lesson).explain_error
        lines, diverged = [], []
        for sheet in [s for s in self.workbook.sheets if s in first and s != "front"]:
            row, col, error = first[sheet]
            cell = f"{sheet}!{address.render(row, col)}"
            line = explain(self.params, sheet, row + 1, cell, error) if explain else None
            if line is None and not explain and error == NUM:
                diverged.append(cell)
            elif line is not None or not explain:
                lines.append(line or f"{cell} is {error}")
        if diverged:
            more = len(diverged) - 1
            also = f" (and on {more} more sheet{'s' * (more > 1)})" if more else ""
            lines.insert(
                0,
                f"{diverged[0]} is #NUM!{also}: the numbers grew past what a double holds, so "
                "training diverged there; try a smaller learning rate (--lr)",
            )
        return lines + self._unsettled()

    def _unsettled(self) -> list[str]:
        """Each training run whose loss did not settle (runs that hit an error aside)."""
        losses = get(self.lesson).losses
        lines = []
        for run, series in (losses(self.params) if losses else {}).items():
            values = [self.results.at(sheet, a1) for sheet, a1 in series.cells]
            if all(type(v) is float for v in values):
                line = training_feedback(values, run, series.window, series.option)  # type: ignore[arg-type]
                lines += [line] if line else []
        return lines


def compute(
    lesson: str, params: Any = None, progress: Progress | None = None
) -> tuple[Workbook, Results]:
    """The lesson's model and every cell's value, without writing anything."""
    spec = get(lesson)
    params = params if params is not None else spec.params()
    say = progress or (lambda message: None)
    say(f"{lesson}: laying out cells")
    wb = workbook(spec, params)
    wb.properties.update(properties_for(lesson, params))
    total = wb.formula_count()
    say(f"{lesson}: computing {total:,} formula cells")
    return wb, evaluate(wb, lambda done, _: say(f"  {done:,} of {total:,}") if done else None)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """A build allocates millions of small, acyclic objects; Python's cycle collector
    would rescan them again and again (about a fifth of the build time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class EditedWorkbook(ValueError):
    """The target holds a workbook someone changed since sheetnet wrote it."""


def exercise_filename(lesson: str) -> str:
    """entropy_example.xlsx -> entropy_example-exercises.xlsx"""
    name = get(lesson).filename
    return name[: -len(".xlsx")] + "-exercises.xlsx"


def check_target(
    lesson: str, outdir: str | os.PathLike[str], force: bool = False, exercises: bool = False
) -> Path:
    """Where `lesson` will be written; refused when a learner's edits are there."""
    target = Path(outdir) / (exercise_filename(lesson) if exercises else get(lesson).filename)
    if target.exists() and not target.is_file():  # a folder, a FIFO: never opened or replaced
        raise ValueError(f"{target} exists and is not a regular file; not writing there")
    if target.exists() and not force and not untouched(target):
        raise EditedWorkbook(
            f"{target} was changed since sheetnet wrote it (edited in a spreadsheet?); "
            "not overwriting: use --force, or -o to write elsewhere"
        )
    return target


def build(
    lesson: str,
    outdir: str | os.PathLike[str],
    params: Any = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Built:
    """Build `lesson` into `outdir`/<its file name>; never over a learner's edits unless forced
    (checked before the work and again right before the file is replaced)."""
    spec = get(lesson)
    target = check_target(lesson, outdir, force)
    params = params if params is not None else spec.params()
    with _collector_paused():
        t0 = time.perf_counter()
        wb, results = compute(lesson, params, progress)
        t1 = time.perf_counter()
        if progress:
            progress(f"{lesson}: writing {target}")
        path = write_xlsx(
            wb, results, target, before_replace=lambda: check_target(lesson, outdir, force)
        )
        t2 = time.perf_counter()
    return Built(lesson, wb, results, path, wb.formula_count(), t1 - t0, t2 - t1, params)


def compute_exercises(lesson: str, params: Any = None) -> tuple[Workbook, Results, Any]:
    """The lesson's exercise workbook and its values (the answers nowhere in it)."""
    from .exercises import exercise_workbook
    from .metadata import EXERCISES

    spec = get(lesson)
    params = params if params is not None else spec.params()
    if spec.exercise_params is not None:
        params = spec.exercise_params(params)
    wb, answers = compute(lesson, params)
    wb = exercise_workbook(spec, params, wb, answers)
    wb.properties[EXERCISES] = "1"
    return wb, evaluate(wb), params


def build_exercises(
    lesson: str, outdir: str | os.PathLike[str], params: Any = None, force: bool = False
) -> Built:
    """Write `lesson`'s exercise workbook, <its file name>-exercises.xlsx, into `outdir`."""
    target = check_target(lesson, outdir, force, exercises=True)
    with _collector_paused():
        t0 = time.perf_counter()
        wb, results, params = compute_exercises(lesson, params)
        t1 = time.perf_counter()
        path = write_xlsx(
            wb,
            results,
            target,
            before_replace=lambda: check_target(lesson, outdir, force, exercises=True),
        )
        t2 = time.perf_counter()
    return Built(lesson, wb, results, path, wb.formula_count(), t1 - t0, t2 - t1, params)
