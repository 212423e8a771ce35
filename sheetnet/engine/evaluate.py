"""Evaluate every formula of a workbook, in dependency order.

Values live in one flat list per sheet (row-major), so a cell is an index.
Work runs in sheet order, top to bottom, which for lessons is nearly always a
valid order: fills covering the same rows run as one compiled loop (see
compile.py), single cells through the interpreter. When a formula meets a cell
that is not computed yet, that cell is computed first, on an explicit stack (no
recursion limit); a cell met again while it waits on the stack is a cycle,
reported by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from . import address
from .compile import BandCompiler
from .errors import REF
from .expr import Expr, Range, Ref
from .semantics import Grid, Value
from .workbook import Fill, Role, Sheet, Workbook

Key = tuple[str, int, int]
_PENDING = object()  # a formula cell not computed yet


class CycleError(ValueError):
    """Formulas that depend on themselves; the message names the cells."""


class _Pending(Exception):
    def __init__(self, key: Key) -> None:
        self.key = key


def cell_name(key: Key) -> str:
    sheet, row, col = key
    return f"{address.quote_sheet(sheet)}!{address.render(row, col)}"


class Results:
    """Every cell's value after evaluation: results[sheet, row, col] (zero-based)."""

    def __init__(self, arrays: dict[str, tuple[list[Value], int]], interpreted: int = 0) -> None:
        self._arrays = arrays
        self.interpreted = interpreted  # formula cells the interpreter computed (not compiled)

    def get(self, key: Key, default: Value = None) -> Value:
        sheet, row, col = key
        arr, width = self._arrays.get(sheet, ((), 1))
        i = row * width + col
        return arr[i] if col < width and 0 <= i < len(arr) else default

    def __getitem__(self, key: Key) -> Value:
        return self.get(key)

    def array(self, sheet: str) -> tuple[list[Value], int]:
        """A sheet's values, row-major, and its width: value of (r, c) is at r*width + c."""
        return self._arrays[sheet]

    def at(self, sheet: str, a1: str) -> Value:
        a = address.parse(a1)
        return self.get((sheet, a.row, a.col))

    def items(self) -> Iterator[tuple[Key, Value]]:
        """Every non-empty cell, sheet by sheet, row by row."""
        for sheet, (arr, width) in self._arrays.items():
            for i, v in enumerate(arr):
                if v is not None:
                    yield (sheet, *divmod(i, width)), v


class _Evaluator:
    def __init__(self, workbook: Workbook, compiled: bool = True) -> None:
        self.compiled = compiled
        self.interpreted = 0
        self.sheets = workbook.sheets
        self.arrays: dict[str, tuple[list[Value], int]] = {}
        self.layout: dict[str, tuple[int, int]] = {}
        for slot, (name, sheet) in enumerate(workbook.sheets.items()):
            rows, cols = sheet.extent()
            width = max(cols, 1)
            arr: list[Value] = [None] * (rows * width)
            for (row, col), cell in sheet.cells.items():
                arr[row * width + col] = (
                    _PENDING if cell.role is Role.FORMULA else cell.content  # type: ignore[assignment]
                )
            for f in sheet.fills:
                n = f.last - f.first + 1
                for col in range(f.col, f.last_col + 1):
                    start = f.first * width + col
                    arr[start : start + (n - 1) * width + 1 : width] = [_PENDING] * n  # type: ignore[list-item]
            self.arrays[name] = (arr, width)
            self.layout[name] = (slot, width)
        self.lists = [arr for arr, _ in self.arrays.values()]
        self.order = {name: i for i, name in enumerate(workbook.sheets)}
        self.compiler = BandCompiler(self.layout)
        self.waits: set[Key] = set()  # the single cells waiting for the sweep's end
        # (sheet, row) -> waiting cells blocked on a cell of that row: retried once a
        # band has computed the row, so that cells reading them need not wait too
        self.blocked: dict[tuple[str, int], list[Key]] = {}

    # -- the Context protocol ---------------------------------------------------
    def cell(self, sheet: str, row: int, col: int) -> Value:
        found = self.arrays.get(sheet)
        if found is None:
            return REF
        arr, width = found
        i = row * width + col
        if col >= width or i >= len(arr):
            return None
        v = arr[i]
        if v is _PENDING:
            raise _Pending((sheet, row, col))
        return v

    def grid(self, sheet: str, row1: int, col1: int, row2: int, col2: int) -> Grid:
        found = self.arrays.get(sheet)
        if found is not None and col1 == col2:  # one column: a strided slice of the values
            arr, width = found
            if col1 < width and (row2 + 1) * width <= len(arr):
                values = arr[row1 * width + col1 : row2 * width + col1 + 1 : width]
                if _PENDING not in values:
                    return Grid(row2 - row1 + 1, 1, values)
        cell = self.cell
        values = [cell(sheet, r, c) for r in range(row1, row2 + 1) for c in range(col1, col2 + 1)]
        return Grid(row2 - row1 + 1, col2 - col1 + 1, values)

    # -- where a cell's formula comes from --------------------------------------
    def expr_of(self, key: Key) -> Expr:
        sheet, row, col = key
        owner = self.sheets[sheet]
        single = owner.cells.get((row, col))
        if single is not None:
            return single.content  # type: ignore[return-value]
        f = owner.covering(row, col)
        assert f is not None, key
        return f.expr_at(row, col)

    # -- driving ----------------------------------------------------------------
    def run(self, progress: Callable[[int, int], None] | None) -> Results:
        total = sum(s.formula_count() for s in self.sheets.values())
        done = reported = 0
        waiting: list[Key] = []  # single cells that read cells the sweep has not reached
        deferred: list[tuple[str, list[Fill]]] = []  # bands that do, likewise
        for name, sheet in self.sheets.items():
            for kind, row, payload in _work(sheet):
                if kind == "cell":
                    self._single((name, row, payload), waiting)  # type: ignore[arg-type]
                    done += 1
                elif self._reads_ahead(name, payload):  # type: ignore[arg-type]
                    deferred.append((name, payload))  # type: ignore[arg-type]
                else:
                    done += self._band(name, payload)  # type: ignore[arg-type]
                    self._unblock(name, payload, waiting)  # type: ignore[arg-type]
                if progress is not None and done - reported >= 250_000:
                    progress(done, total)
                    reported = done
        for name, fills in deferred:  # what they read is computed now, on the fast path
            self._band(name, fills)
        for key in waiting:
            self._single(key)
        return Results(self.arrays, self.interpreted)

    def _single(self, key: Key, waiting: list[Key] | None = None) -> None:
        """Compute one cell. With `waiting`, a cell that reads a cell the sweep reaches
        later (a row further down, a later sheet: a summary above its rows, a front
        sheet) waits there, so what it reads is computed on the fast path first."""
        arr, width = self.arrays[key[0]]
        i = key[1] * width + key[2]
        if arr[i] is _PENDING:
            try:
                arr[i] = self.sheets[key[0]].cells[key[1], key[2]].content.evaluate(self)  # type: ignore[union-attr]
                self.interpreted += 1
            except _Pending as pending:
                here, there = self.order[key[0]], self.order[pending.key[0]]
                later = there > here or (there == here and pending.key[1] > key[1])
                if waiting is not None and (later or pending.key in self.waits):
                    waiting.append(key)
                    self.waits.add(key)
                    self.blocked.setdefault(pending.key[:2], []).append(key)
                else:
                    self._compute(key)

    def _unblock(self, sheet: str, fills: list[Fill], waiting: list[Key]) -> None:
        if not self.blocked:
            return
        for row in range(min(f.first for f in fills), max(f.last for f in fills) + 1):
            for key in self.blocked.pop((sheet, row), ()):
                self._single(key, waiting)

    def _reads_ahead(self, sheet: str, fills: list[Fill]) -> bool:
        """Whether a band reads rows below its own or a later sheet: run it after the
        sweep, so those cells come from the fast path rather than the interpreter."""
        hi = max(f.last for f in fills)
        here = self.order[sheet]
        for f in fills:
            down, across = f.last - f.first, f.last_col - f.col
            stack = [f.expr]
            while stack:
                e = stack.pop()
                if type(e) is Ref:
                    first = last = e
                elif type(e) is Range:
                    first, last = e.first, e.last
                else:
                    stack.extend(e.children())
                    continue
                there = self.order.get(first.sheet, here)
                r2 = last.row if last.abs_row else last.row + down
                if there < here or (there == here and r2 <= hi):
                    continue
                c2 = last.col if last.abs_col else last.col + across
                if self._any_pending(first.sheet, first.row, first.col, r2, c2):
                    return True
        return False

    def _any_pending(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> bool:
        arr, width = self.arrays[sheet]
        c2 = min(c2, width - 1)
        return any(
            _PENDING in arr[r * width + c1 : r * width + c2 + 1]
            for r in range(r1, min(r2 + 1, len(arr) // width))
        )

    def _band(self, sheet: str, fills: list[Fill]) -> int:
        lo, hi = min(f.first for f in fills), max(f.last for f in fills)
        if self.compiled:
            order, runner, params = self.compiler.compile(sheet, fills, lo)
        else:
            order, runner, params = fills, None, ()
        arr, width = self.arrays[sheet]

        def slow(row: int) -> None:
            for f in order:
                if f.first <= row <= f.last:
                    for col in range(f.col, f.last_col + 1):
                        if arr[row * width + col] is _PENDING:
                            self._compute((sheet, row, col))

        def one(position: int, row: int) -> None:
            f = fills[position]
            for col in range(f.col, f.last_col + 1):
                if arr[row * width + col] is _PENDING:
                    self._compute((sheet, row, col))

        if runner is not None:
            runner(self.lists, lo, hi, slow, params, one)
        else:
            for row in range(lo, hi + 1):
                slow(row)
        return sum(f.size for f in fills)

    def _compute(self, start: Key) -> None:
        """Compute `start` and, first, whatever it waits for."""
        stack, waiting = [start], {start}
        while stack:
            key = stack[-1]
            arr, width = self.arrays[key[0]]
            i = key[1] * width + key[2]
            if arr[i] is not _PENDING:
                stack.pop()
                waiting.discard(key)
                continue
            try:
                value = self.expr_of(key).evaluate(self)
            except _Pending as pending:
                if pending.key in waiting:
                    loop = [*stack[stack.index(pending.key) :], pending.key]
                    raise CycleError(
                        "circular reference: " + " -> ".join(cell_name(k) for k in loop)
                    ) from None
                stack.append(pending.key)
                waiting.add(pending.key)
                continue
            arr[i] = value  # type: ignore[assignment]
            self.interpreted += 1
            stack.pop()
            waiting.discard(key)


def _work(sheet: Sheet) -> list[tuple[str, int, object]]:
    """A sheet's formula work, top to bottom: single cells, and bands of fills
    that cover the same rows."""
    items: list[tuple[str, int, object]] = [
        ("cell", row, col) for (row, col), c in sheet.cells.items() if c.role is Role.FORMULA
    ]
    for fills in _bands(sheet.fills):
        items.append(("band", min(f.first for f in fills), fills))
    items.sort(key=lambda item: (item[1], item[0] == "band"))
    return items


def _bands(fills: list[Fill]) -> list[list[Fill]]:
    """Fills whose rows overlap, grouped: each group runs as one loop over its rows."""
    groups: list[list[Fill]] = []
    hi = -1
    for f in sorted(fills, key=lambda f: (f.first, f.col)):
        if f.first > hi:
            groups.append([])
        groups[-1].append(f)
        hi = max(hi, f.last)
    return groups


def evaluate(
    workbook: Workbook,
    progress: Callable[[int, int], None] | None = None,
    compiled: bool = True,
) -> Results:
    """Compute every cell of `workbook` with Excel's semantics.

    `compiled=False` sends every cell through the interpreter (for checking that
    the fast path computes the same bits)."""
    return _Evaluator(workbook, compiled).run(progress)
