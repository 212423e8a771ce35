"""Independent numpy implementations of each lesson (each lesson registers its own).

Each module's `expected_cells(params)` returns {(sheet, 'A1'): value} for every
formula cell of the lesson, computed without the engine, from the inputs as an
.xlsx file holds them (`as_stored`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..engine.semantics import stored


def _stored(v: Any) -> Any:
    if isinstance(v, float):
        return stored(v)
    if isinstance(v, tuple):
        return tuple(_stored(x) for x in v)
    if isinstance(v, dict):
        return {k: _stored(x) for k, x in v.items()}
    return v


def as_stored(params: Any) -> Any:
    """`params` with every number as a spreadsheet will read it back from the file."""
    fields = {f.name: _stored(getattr(params, f.name)) for f in dataclasses.fields(params)}
    return dataclasses.replace(params, **fields)
