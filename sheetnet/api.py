"""The notebook API: ``import sheetnet as sn``.

    sn.lessons()                           the lessons, as a table
    wb = sn.build("digits", epochs=2)      a workbook in memory, every cell computed
    wb.frame("progress")                   a sheet as a DataFrame, named by its headers
    wb.formulas("progress")                the same shape, with each cell's formula
    wb.key_results                         how the lesson came out (a Series)
    wb.save()                              the .xlsx (default: workbooks/<its file>)
    book = sn.open("workbooks/digits.xlsx")   a saved (or edited) file
    book.compare(), book.verify("sheetnet")   result objects, not printed text

Every refusal is one SheetnetError whose message names the option or the file, as
the command line's one-line errors do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .engine import Role, Workbook, address
from .engine.errors import ExcelError
from .lessons import LESSONS, get
from .lessons.contract import ParamError, fields_of

if TYPE_CHECKING:
    import pandas as pd

    from .reader import SavedSheet
    from .verify.report import Report
    from .verify.roundtrip import Comparison

MAX_FRAME_CELLS = 2_000_000  # a notebook table, not a whole sheet


class SheetnetError(ValueError):
    """What sheetnet refuses, in one line: a bad option, an unreadable file."""


def lessons() -> pd.DataFrame:
    """The lessons: name, the file each builds, what it teaches, its options."""
    import pandas as pd

    rows = [
        {
            "file": lesson.filename,
            "summary": lesson.summary,
            "options": ", ".join(lesson.option_names()),
        }
        for lesson in LESSONS.values()
    ]
    return pd.DataFrame(rows, index=pd.Index(list(LESSONS), name="lesson"))


def params(lesson: str, **options: Any) -> Any:
    """A lesson's parameters from Python values (or the command line's text):
    ``params("digits", epochs=2, lr=0.5)``; SheetnetError names a bad option."""
    try:
        spec = get(lesson)
    except ValueError as exc:
        raise SheetnetError(str(exc)) from None
    known = {f.name: f for f in fields_of(spec.params)}
    values: dict[str, Any] = {}
    for name, value in options.items():
        f = known.get(name)
        if f is None:
            raise SheetnetError(
                f"{lesson} has no option {name!r} (its options: {', '.join(known)})"
            )
        values[name] = _value(name, f, value)
    try:
        return spec.params(**values)
    except ParamError as exc:
        raise SheetnetError(f"{exc.name}: {exc.message}") from None
    except (TypeError, ValueError) as exc:
        raise SheetnetError(str(exc)) from None


def _value(name: str, f: Any, value: Any) -> Any:
    """A Python value as the field holds it: text is parsed as the command line does;
    a number where a whole number belongs must be one."""
    kind = f.metadata["kind"]
    if isinstance(value, str) or (
        kind.multiple and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    ):
        texts = [value] if isinstance(value, str) else list(value)
        try:
            return kind.parse(texts)
        except ValueError as exc:
            raise SheetnetError(f"{name}: {exc}") from None
    if kind.bulk and isinstance(value, os.PathLike):
        return _value(name, f, os.fspath(value))
    if kind.metavar == "N" and not (value is None or (type(value) is int)):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise SheetnetError(f"{name}: expected a whole number, not {value!r}")
    if kind.metavar == "X":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SheetnetError(f"{name}: expected a number, not {value!r}")
        return float(value)
    return value


def build(lesson: str, **options: Any) -> BuiltWorkbook:
    """Build `lesson` in memory with `options` (the command line's, as Python values)."""
    from .pipeline import compute

    chosen = params(lesson, **options)
    try:
        wb, results = compute(lesson, chosen)
    except MemoryError:
        raise SheetnetError("out of memory: choose smaller sizes") from None
    return BuiltWorkbook(lesson, chosen, wb, results)


def open(path: str | os.PathLike[str]) -> OpenedWorkbook:
    """A workbook file, saved by sheetnet or edited in a spreadsheet (or anyone's)."""
    from .reader import Package

    try:
        with Package(path) as package:
            sheets = package.sheets()
            notes = package.notes
    except (ValueError, OSError, RuntimeError) as exc:  # UnreadableWorkbook is a ValueError
        raise SheetnetError(str(exc)) from None
    return OpenedWorkbook(Path(path), sheets, notes)


# -- the two kinds of workbook ----------------------------------------------------------
class _Sheets:
    """What a frame needs from a workbook: cells by position, and which are headers."""

    sheet_names: list[str]

    def _cells(self, sheet: str) -> tuple[dict[tuple[int, int], object], set[tuple[int, int]]]:
        raise NotImplementedError

    def _formula_texts(self, sheet: str) -> dict[tuple[int, int], str]:
        raise NotImplementedError

    def _check(self, sheet: str) -> None:
        if sheet not in self.sheet_names:
            raise SheetnetError(f"no sheet {sheet!r} (sheets: {', '.join(self.sheet_names)})")

    def frame(self, sheet: str) -> pd.DataFrame:
        """The sheet's table below its header row, columns named by the headers:
        numbers as float64, empty cells NaN, errors shown as their code ('#NUM!')."""
        self._check(sheet)
        cells, headers = self._cells(sheet)
        return _frame(cells, headers, sheet)

    def formulas(self, sheet: str) -> pd.DataFrame:
        """The same shape as frame(sheet), each cell's formula text (None: a constant)."""
        self._check(sheet)
        cells, headers = self._cells(sheet)
        texts = self._formula_texts(sheet)
        return _frame(cells, headers, sheet, texts)

    def values(self, sheet: str, cells: str) -> np.ndarray:
        """The numbers of a range as the sheet shows it, ``values("train", "C4:D7")``:
        a float64 array of its shape, NaN where a cell holds no number."""
        self._check(sheet)
        first, _, last = cells.partition(":")
        try:
            a, b = address.parse(first.upper()), address.parse((last or first).upper())
        except ValueError as exc:
            raise SheetnetError(str(exc)) from None
        if (b.row - a.row + 1) * (b.col - a.col + 1) > MAX_FRAME_CELLS or b < a:
            raise SheetnetError(f"{cells!r} is not a range of at most {MAX_FRAME_CELLS:,} cells")
        at = self._value_at(sheet)
        return np.array(
            [[_float(at(r, c)) for c in range(a.col, b.col + 1)] for r in range(a.row, b.row + 1)]
        )

    def _value_at(self, sheet: str) -> Any:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return _html(self)


@dataclass
class BuiltWorkbook(_Sheets):
    """A lesson built in memory: its model (cells and formulas) and every value."""

    lesson: str
    params: Any
    workbook: Workbook
    results: Any

    @property
    def sheet_names(self) -> list[str]:  # type: ignore[override]
        return list(self.workbook.sheets)

    @property
    def key_results(self) -> pd.Series:
        import pandas as pd

        keys = get(self.lesson).key_results(self.params)
        return pd.Series(
            {k.label: _number(self.results.at(k.sheet, k.a1)) for k in keys},
            name=self.lesson,
            dtype=object,
        )

    def save(self, path: str | os.PathLike[str] | None = None, force: bool = False) -> Path:
        """Write the .xlsx: to `path`, or to workbooks/<the lesson's file name>."""
        from .export.xlsx import write_xlsx
        from .pipeline import EditedWorkbook, check_target

        filename = get(self.lesson).filename
        target = Path(path) if path is not None else Path("workbooks") / filename
        try:
            if target.name == filename:  # never over a learner's edits, as `build` promises
                check_target(self.lesson, target.parent, force)
            target.parent.mkdir(parents=True, exist_ok=True)
            return write_xlsx(self.workbook, self.results, target)
        except (EditedWorkbook, OSError, ValueError) as exc:
            raise SheetnetError(str(exc)) from None

    def _value_at(self, sheet: str) -> Any:
        return lambda row, col: self.results.get((sheet, row, col))

    def _cells(self, sheet: str) -> tuple[dict[tuple[int, int], object], set[tuple[int, int]]]:
        model = self.workbook[sheet]
        arr, width = self.results.array(sheet)
        cells = {divmod(i, width): v for i, v in enumerate(arr) if v is not None}
        headers = {rc for rc, c in model.cells.items() if c.role is Role.HEADER}
        return cells, headers  # type: ignore[return-value]

    def _formula_texts(self, sheet: str) -> dict[tuple[int, int], str]:
        from .engine.expr import cell_renderer

        model = self.workbook[sheet]
        out = {
            rc: c.content.formula(sheet)  # type: ignore[union-attr]
            for rc, c in model.cells.items()
            if c.role is Role.FORMULA
        }
        for f in model.fills:
            text_at = cell_renderer(f.expr, sheet)
            for row, col in f.positions():
                out[row, col] = text_at(row - f.first, col - f.col)
        return out


@dataclass
class OpenedWorkbook(_Sheets):
    """A workbook read from a file: its formulas and the values it saved."""

    path: Path
    sheets: dict[str, SavedSheet]
    notes: list[str]

    @property
    def sheet_names(self) -> list[str]:  # type: ignore[override]
        return list(self.sheets)

    def compare(self, rtol: float = 1e-9) -> Comparison:
        """The file against Python recomputing its lesson (see `sheetnet compare`)."""
        from .verify.roundtrip import compare_file

        try:
            return compare_file(self.path, rtol=rtol)
        except (ValueError, OSError, KeyError, RuntimeError) as exc:
            raise SheetnetError(str(exc)) from None

    def verify(self, app: str = "sheetnet", rtol: float = 1e-12) -> Report:
        """A recalculation by `app` ('sheetnet', 'libreoffice', 'gnumeric') against the
        values the file saved (see `sheetnet verify`)."""
        from .verify.apps import AppMissing, get_app
        from .verify.engine_app import ENGINE
        from .verify.recalc import verify_file

        try:
            checker = ENGINE if app == "sheetnet" else get_app(app)
            if not checker.available():
                raise AppMissing(f"{checker.title} is not installed ({checker.install})")
            return verify_file(self.path, rtol=rtol, app=checker)
        except (ValueError, OSError, RuntimeError, AppMissing) as exc:
            raise SheetnetError(str(exc)) from None

    def _value_at(self, sheet: str) -> Any:
        return self.sheets[sheet].values.at

    def _cells(self, sheet: str) -> tuple[dict[tuple[int, int], object], set[tuple[int, int]]]:
        saved = self.sheets[sheet]
        cells = {(r, c): v for r, c, v in saved.values.cells()}
        return cells, _header_guess(cells)

    def _formula_texts(self, sheet: str) -> dict[tuple[int, int], str]:
        formulas = self.sheets[sheet].formulas
        return {(r, c): formulas.text_at(r, c) for r, c, _ in formulas.cells()}  # type: ignore[misc]


def _header_guess(cells: dict[tuple[int, int], object]) -> set[tuple[int, int]]:
    """In a file, the header row is the text row of the first block: the first row
    (of the first 60) with at least two text cells each above a number."""
    for row in sorted({r for r, _ in cells})[:60]:
        heads = {
            (row, c)
            for (r, c), v in cells.items()
            if r == row and isinstance(v, str) and isinstance(cells.get((row + 1, c)), float)
        }
        if len(heads) >= 2:
            return heads
    return set()


def _float(v: object) -> float:
    return v if type(v) is float else float("nan")  # type: ignore[return-value]


def _number(v: object) -> object:
    return v.code if isinstance(v, ExcelError) else v


def _frame(
    cells: dict[tuple[int, int], object],
    headers: set[tuple[int, int]],
    sheet: str,
    texts: dict[tuple[int, int], str] | None = None,
) -> pd.DataFrame:
    import pandas as pd

    if not cells:
        return pd.DataFrame()
    rows_of = {r for r, _ in headers}
    head_row = max(rows_of, key=lambda r: (sum(1 for h in headers if h[0] == r), -r), default=-1)
    last_row = max(r for r, _ in cells)
    columns = sorted({c for _, c in cells})
    size = (last_row - head_row) * len(columns)
    if size > MAX_FRAME_CELLS:
        raise SheetnetError(f"sheet {sheet!r} makes a table of {size:,} cells; at most "
                            f"{MAX_FRAME_CELLS:,}")  # fmt: skip
    names, seen = [], set()
    for c in columns:
        head = cells.get((head_row, c)) if (head_row, c) in headers else None
        name = str(head) if head not in (None, "") else address.col_letters(c)
        while name in seen:
            name += "'"
        seen.add(name)
        names.append(name)
    index = pd.RangeIndex(head_row + 2, last_row + 2, name="row")
    data = {}
    for name, c in zip(names, columns):
        if texts is not None:
            data[name] = [texts.get((r, c)) for r in range(head_row + 1, last_row + 1)]
            continue
        values = [_number(cells.get((r, c))) for r in range(head_row + 1, last_row + 1)]
        if all(v is None or type(v) is float for v in values):
            data[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        else:
            data[name] = pd.array([v for v in values], dtype=object)
    return pd.DataFrame(data, index=index)


def _html(book: _Sheets, rows: int = 12) -> str:
    """A workbook in a notebook: each sheet's first rows, formulas on hover, inputs in
    the workbook's yellow (pandas' Styler)."""
    import pandas as pd

    parts = [f"<p><b>{_escape(type(book).__name__)}</b>: {len(book.sheet_names)} sheets</p>"]
    for name in book.sheet_names[:6]:
        try:
            frame = book.frame(name)
        except SheetnetError as exc:
            parts.append(f"<p>{_escape(name)}: {_escape(str(exc))}</p>")
            continue
        shown = frame.head(rows)
        formulas = book.formulas(name).head(rows).reindex_like(shown)
        styler = shown.style.set_caption(
            f"{name}: rows {shown.index.min() if len(shown) else '-'}.."
            f"{shown.index.max() if len(shown) else '-'} of {len(frame):,}"
        )
        tips = formulas.where(formulas.notna(), "").astype(str)
        styler = styler.set_tooltips(tips)
        inputs = formulas.isna() & shown.notna()  # constants in the table: the inputs
        styles = pd.DataFrame(
            np.where(inputs, "background-color: #FFF2CC", ""), index=shown.index,
            columns=shown.columns,
        )  # fmt: skip
        styler = styler.apply(lambda _, s=styles: s, axis=None)
        parts.append(styler.to_html())
    return "\n".join(parts)


def _escape(text: str) -> str:
    import html

    return html.escape(text)
