"""Cells by position, compactly: what a sheet holds costs about a pointer a cell.

A file's cells arrive row by row, left to right. Each row's cells that lie close
together are kept as one list (a run from its first column); a cell far to the
right of its row's run goes to a small dict instead, so a hostile file with one
cell in column ZZZ of every row costs what it holds, not the columns it skips.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..engine import address

MAX_GAP = 32  # empty slots a run may hold before a cell is kept apart


class CellGrid(Mapping[str, Any]):
    """(row, col) -> value, zero-based; also a Mapping by A1 address, for reading."""

    __slots__ = ("_rows", "_apart")

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, list[Any]]] = {}
        self._apart: dict[tuple[int, int], Any] = {}

    def put(self, row: int, col: int, value: Any) -> None:
        """Set a cell; cells of one row come left to right (a reader's order)."""
        entry = self._rows.get(row)
        if entry is None:
            self._rows[row] = (col, [value])
            return
        start, run = entry
        gap = col - start - len(run)
        if 0 <= gap <= MAX_GAP:
            if gap:
                run.extend([None] * gap)
            run.append(value)
        elif 0 <= col - start < len(run):
            run[col - start] = value
        else:
            self._apart[row, col] = value

    def at(self, row: int, col: int) -> Any:
        entry = self._rows.get(row)
        if entry is not None:
            i = col - entry[0]
            if 0 <= i < len(entry[1]):
                v = entry[1][i]
                if v is not None:
                    return v
        return self._apart.get((row, col)) if self._apart else None

    def run(self, row: int) -> tuple[int, list[Any]] | None:
        """A row's run of cells: (first column, values), for loops over a row."""
        return self._rows.get(row)

    def cells(self) -> Iterator[tuple[int, int, Any]]:
        """(row, col, value) of every cell."""
        for row, (start, run) in self._rows.items():
            for i, v in enumerate(run):
                if v is not None:
                    yield row, start + i, v
        for (row, col), v in self._apart.items():
            yield row, col, v

    # -- the Mapping by A1 address --------------------------------------------------
    def __getitem__(self, a1: str) -> Any:
        try:
            at = address.parse(a1)
        except ValueError:
            raise KeyError(a1) from None
        v = self.at(at.row, at.col)
        if v is None:
            raise KeyError(a1)
        return v

    def get(self, a1: str, default: Any = None) -> Any:
        try:
            at = address.parse(a1)
        except ValueError:
            return default
        v = self.at(at.row, at.col)
        return default if v is None else v

    def __contains__(self, a1: object) -> bool:
        return isinstance(a1, str) and self.get(a1) is not None

    def __iter__(self) -> Iterator[str]:
        for row, col, _ in self.cells():
            yield address.render(row, col)

    def __len__(self) -> int:
        return sum(1 for _ in self.cells())
