"""Reading what a learner supplies: an (x, y) CSV file, and SHEET=VALUE settings.

Every problem becomes a ValueError with a one-line message that names it (and
the line, where there is one); nothing is half-read.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from .engine.address import MAX_ROWS

MAX_CSV_BYTES = 64 * 1024 * 1024
MAX_DATA_ROWS = MAX_ROWS - 4  # the data sheet's x values start in row 5


def read_xy_csv(path: str | os.PathLike[str]) -> tuple[tuple[float, float], ...]:
    """Two columns named x and y, a header row, then one number pair per line."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: the file is empty (expected a header row 'x,y')")
    if size > MAX_CSV_BYTES:
        raise ValueError(f"{path}: {size:,} bytes is more than the {MAX_CSV_BYTES:,} read")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV"
        ) from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    names = [h.strip().lower() for h in header or []]
    if names != ["x", "y"]:
        if "x" not in names or "y" not in names:
            raise ValueError(
                f"{path}: line 1 must be the header 'x,y', found {','.join(header or [])!r}"
            )
        extra = [h for h in names if h not in ("x", "y")]
        raise ValueError(
            f"{path}: expected exactly the columns x,y; extra columns: {', '.join(extra)}"
        )
    pairs: list[tuple[float, float]] = []
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise ValueError(f"{path}: line {line}: expected 2 values (x,y), found {len(row)}")
        pair = []
        for name, cell in zip("xy", row):
            try:
                value = float(cell.strip())
            except ValueError:
                raise ValueError(
                    f"{path}: line {line}: {name} is not a number: {cell.strip()!r}"
                ) from None
            if not math.isfinite(value):
                raise ValueError(
                    f"{path}: line {line}: {name} is {cell.strip()}, not a finite number"
                )
            pair.append(value)
        pairs.append((pair[0], pair[1]))
        if len(pairs) > MAX_DATA_ROWS:
            raise ValueError(
                f"{path}: more than {MAX_DATA_ROWS:,} rows do not fit in Excel's sheet"
            )
    if len(pairs) < 2:
        raise ValueError(f"{path}: need at least 2 data rows, found {len(pairs)}")
    return tuple(pairs)


def parse_settings(option: str, items: tuple[str, ...]) -> dict[str, float]:
    """('adam=0.05', ...) -> {'adam': 0.05}; a malformed item is an error naming it."""
    out: dict[str, float] = {}
    for item in items:
        sheet, sep, text = item.partition("=")
        if not sep or not sheet.strip():
            raise ValueError(f"{option} {item!r}: expected SHEET=VALUE, e.g. {option} adam=0.05")
        try:
            out[sheet.strip()] = float(text)
        except ValueError:
            raise ValueError(f"{option} {item!r}: {text!r} is not a number") from None
    return out
