"""Arithmetic as a spreadsheet does it, for the engine-free references.

Sums run left to right (cumsum), as SUM and SUMPRODUCT add; exp and log are the C
library's, as spreadsheets (and Python's math) call them: numpy's vectorised
versions may differ in the last bit, which sums of nearly cancelling terms magnify.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.address import render

Cells = dict[tuple[str, str], object]

_exp = np.frompyfunc(math.exp, 1, 1)
_log = np.frompyfunc(math.log, 1, 1)


def exp(a: np.ndarray) -> np.ndarray:
    return _exp(a).astype(float)


def log(a: np.ndarray) -> np.ndarray:
    return _log(a).astype(float)


def as_stored(values: object) -> np.ndarray:
    """Input numbers as the workbook's cells hold them (16 significant digits)."""
    from ..engine.semantics import stored

    return np.vectorize(stored, otypes=[float])(np.array(values, dtype=float))


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sums of products along the last axis, added left to right (SUMPRODUCT)."""
    return np.cumsum(a * b, axis=-1)[..., -1]


def total(a: np.ndarray) -> np.ndarray:
    """Sums along the last axis, left to right (SUM)."""
    return np.cumsum(a, axis=-1)[..., -1]


def put(cells: Cells, sheet: str, top: int, left: int, values: np.ndarray) -> None:
    """A 2-D array of values from (top, left), zero-based."""
    values = np.atleast_2d(values)
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            cells[sheet, render(top + i, left + j)] = float(v)
