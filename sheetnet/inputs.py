"""Reading a CSV of numbers a learner supplies: one-line errors, bounded work.

Every problem becomes a ValueError with a one-line message that names the file
(and the line, where there is one); nothing is half-read. Lessons decide which
columns they need (see each lesson's data reader).
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

MAX_CSV_BYTES = 64 * 1024 * 1024
MAX_FIELD = 1024  # characters in one CSV field: no number is longer


def _excerpt(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def read_text(path: str | os.PathLike[str]) -> str:
    """A CSV file's text: it must exist, be UTF-8 and not be larger than MAX_CSV_BYTES."""
    path = Path(path)
    if not path.is_file():
        what = "not a regular file" if path.exists() else "no such file"
        raise ValueError(f"{path}: {what}")
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: the file is empty (expected a header row)")
    if size > MAX_CSV_BYTES:
        raise ValueError(f"{path}: {size:,} bytes is more than the {MAX_CSV_BYTES:,} read")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV"
        ) from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def read_number_table(
    path: str | os.PathLike[str], max_rows: int, max_cols: int = 16_384
) -> tuple[list[str], list[list[float]]]:
    """A header row of names, then rows of finite numbers, all of the header's width."""
    path = Path(path)
    # newline="": a quoted field keeps its line break (and is then not a number), and
    # only \r and \n end a row (str.splitlines would also split at U+2028)
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        if len(header) > max_cols:
            raise ValueError(f"{path}: {len(header):,} columns; at most {max_cols:,} fit")
        rows: list[list[float]] = []
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path}: line {line}: expected {len(header)} values "
                    f"({','.join(header)[:60]}), found {len(row)}"
                )
            rows.append([number(path, line, name, cell) for name, cell in zip(header, row)])
            if len(rows) > max_rows:
                raise ValueError(f"{path}: more than {max_rows:,} rows do not fit in the workbook")
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    return header, rows


def number(path: Path, line: int, name: str, cell: str) -> float:
    """One CSV field as a finite number, or a one-line error naming the line."""
    text = cell.strip()
    if len(text) > MAX_FIELD:
        raise ValueError(f"{path}: line {line}: {name} is {len(text):,} characters long")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{path}: line {line}: {name} is not a number: {_excerpt(text)}") from None
    if not math.isfinite(value):
        raise ValueError(f"{path}: line {line}: {name} is {text}, not a finite number")
    return value
