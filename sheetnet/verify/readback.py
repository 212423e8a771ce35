"""Read an .xlsx back: each cell's formula (if any) and its saved value."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import openpyxl

from ..engine.errors import ExcelError, as_error
from ..safety import UnreadableWorkbook, inspect_xlsx
from .report import normalise


@dataclass
class SavedSheet:
    """A sheet as a file holds it: formulas by address, values by address."""

    name: str
    formulas: dict[str, str]
    values: dict[str, object]


def read_workbook(path: str | os.PathLike[str]) -> dict[str, SavedSheet]:
    """Formulas and cached values of every sheet; any parse failure is UnreadableWorkbook."""
    inspect_xlsx(path)
    try:
        return _read(path)
    except UnreadableWorkbook:
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged parts
        reason = f"{type(exc).__name__}: {exc}"
        raise UnreadableWorkbook(f"{path}: damaged workbook ({reason})") from None


def _read(path: str | os.PathLike[str]) -> dict[str, SavedSheet]:
    """Two read-only passes of openpyxl: one for formulas, one for cached values."""
    with warnings.catch_warnings():  # e.g. "no default style" on files other apps saved
        warnings.simplefilter("ignore", UserWarning)
        with_formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
        with_values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets: dict[str, SavedSheet] = {}
        for ws_f, ws_v in zip(with_formulas.worksheets, with_values.worksheets):
            # a sheet's claimed size (<dimension>) is not trusted: rows and cells are
            # what the file holds, so the work is bounded by the file's real size
            for ws in (ws_f, ws_v):
                ws.reset_dimensions()
            formulas: dict[str, str] = {}
            values: dict[str, object] = {}
            # the cell's type in the file decides, never the look of its text: a text
            # cell '=1+1' is not a formula, a text cell '#N/A' is not an error
            for row in ws_f.iter_rows():
                for c in row:
                    if getattr(c, "data_type", None) == "f":
                        formulas[c.coordinate] = c.value
            for row in ws_v.iter_rows():
                for c in row:
                    v = getattr(c, "value", None)
                    if v is None:
                        continue
                    if getattr(c, "data_type", None) == "e":
                        v = as_error(v) or ExcelError(str(v)[:16])
                    values[c.coordinate] = normalise(v)
            sheets[ws_f.title] = SavedSheet(ws_f.title, formulas, values)
        return sheets
    finally:
        with_formulas.close()
        with_values.close()
