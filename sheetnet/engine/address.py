"""Excel A1 addresses <-> zero-based (row, column) pairs."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

MAX_ROWS = 1_048_576
MAX_COLS = 16_384

_A1 = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)([1-9][0-9]*)$")


class Address(NamedTuple):
    row: int
    col: int
    abs_row: bool = False
    abs_col: bool = False


def col_letters(col: int) -> str:
    """Zero-based column number to letters: 0 -> A, 26 -> AA."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class _Letters:
    """Column letters by zero-based number, built on first use: LETTERS[27] == 'AB'."""

    def __init__(self) -> None:
        self._all: list[str] = []

    def __getitem__(self, col: int) -> str:
        if not self._all:
            self._all = [col_letters(c) for c in range(MAX_COLS)]
        return self._all[col]


LETTERS = _Letters()


def col_number(letters: str) -> int:
    """Letters to zero-based column number: A -> 0, AA -> 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


@functools.lru_cache(maxsize=1 << 16)
def parse(a1: str) -> Address:
    """Parse 'C4' or '$C$4' into an Address; raises ValueError on anything else.
    (Cached: lessons name the same few absolute cells thousands of times.)"""
    m = _A1.match(a1)
    if not m:
        raise ValueError(f"not a cell address: {a1!r}")
    col = col_number(m.group(2))
    row = int(m.group(4)) - 1
    if col >= MAX_COLS or row >= MAX_ROWS:
        raise ValueError(f"cell address outside Excel's grid: {a1!r}")
    return Address(row, col, bool(m.group(3)), bool(m.group(1)))


def render(row: int, col: int, abs_row: bool = False, abs_col: bool = False) -> str:
    """Zero-based row and column to 'C4' (with '$' where absolute)."""
    return f"{'$' if abs_col else ''}{col_letters(col)}{'$' if abs_row else ''}{row + 1}"


def quote_sheet(name: str) -> str:
    """A sheet name as it must appear before '!' in a formula."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) and not re.fullmatch(
        r"[A-Za-z]{1,3}[0-9]+", name
    ):
        return name
    return "'" + name.replace("'", "''") + "'"
