"""One worksheet part, streamed once: every cell's formula, cached value and type.

An expat parser (the C parser in Python's standard library) walks the part as it
inflates, so no sheet's whole text is ever held. The cell's type in the file
decides what its value is: a text cell '=1+1' is not a formula, a text cell
'#N/A' is not an error. Shared formulas stay shared: a member cell refers to its
group, whose master text is parsed once (see SavedFormulas).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from ..engine import address
from ..engine.errors import ExcelError, as_error
from ..engine.expr import cell_renderer
from ..engine.parse import FormulaNotSupported, parse_formula
from .grid import CellGrid

MAX_TEXT = 32_767  # characters in one cell: Excel's own limit
_MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # the "strict" dialect
)
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_COLS: dict[str, int] = {}  # column letters -> number, as met
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


class BadSheet(ValueError):
    """A worksheet part sheetnet will not read; the message says why, in one line."""


@dataclass(eq=False)
class SharedGroup:
    """A shared formula: its master cell's text, written once for a block of cells."""

    row: int
    col: int
    text: str
    _render: object = None
    # the members seen (the master included) and the rectangle they lie in: when the
    # count equals the rectangle's area, the group fills it exactly
    count: int = 1
    first_col: int = -1
    last_row: int = -1
    last_col: int = -1

    def __post_init__(self) -> None:
        self.first_col = self.last_col = self.col
        self.last_row = self.row

    def add(self, row: int, col: int) -> None:
        self.count += 1
        self.last_row = max(self.last_row, row)
        self.first_col = min(self.first_col, col)
        self.last_col = max(self.last_col, col)

    @property
    def solid(self) -> bool:
        """Whether the members fill their rectangle (each cell is read once)."""
        area = (self.last_row - self.row + 1) * (self.last_col - self.first_col + 1)
        return self.count == area

    def text_at(self, row: int, col: int, host: str) -> str | None:
        """A member's formula (with '='): the master's, filled to (row, col) as Excel does."""
        if row == self.row and col == self.col:
            return "=" + self.text
        if self._render is None:
            try:
                self._render = cell_renderer(parse_formula(self.text, host), host)
            except FormulaNotSupported:
                self._render = _translator(self.text, self.row, self.col)
        return self._render(row - self.row, col - self.col)  # type: ignore[operator]


def _translator(text: str, row: int, col: int) -> object:
    """For a master the engine cannot parse: openpyxl's text translation."""
    from openpyxl.formula.translate import Translator

    origin = address.render(row, col)

    def at(dr: int, dc: int) -> str:
        return Translator("=" + text, origin).translate_formula(address.render(row + dr, col + dc))

    return at


class SavedFormulas(CellGrid):
    """Formula text (with '=', as openpyxl gives it) by cell: a cell holds its own text
    (without '='), or its SharedGroup, whose member texts are rendered on demand."""

    __slots__ = ("host", "arrays", "groups")

    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host
        self.arrays: set[tuple[int, int]] = set()  # array (Ctrl+Shift+Enter) formulas
        self.groups: list[SharedGroup] = []  # the shared formulas, by their masters

    def text_at(self, row: int, col: int) -> str | None:
        entry = self.at(row, col)
        if entry is None:
            return None
        if type(entry) is str:
            return "=" + entry
        return entry.text_at(row, col, self.host)

    def group_at(self, row: int, col: int) -> SharedGroup | None:
        entry = self.at(row, col)
        return entry if type(entry) is SharedGroup else None

    def __getitem__(self, a1: str) -> str:
        at = address.parse(a1)
        text = self.text_at(at.row, at.col)
        if text is None:
            raise KeyError(a1)
        return text

    def get(self, a1: str, default: object = None) -> object:
        try:
            return self[a1]
        except (KeyError, ValueError):
            return default


@dataclass
class SavedSheet:
    """A sheet as a file holds it: formulas by address, values by address."""

    name: str
    formulas: SavedFormulas
    values: CellGrid = field(default_factory=CellGrid)


class _SheetHandler:
    """expat callbacks that fill one SavedSheet."""

    def __init__(self, sheet: SavedSheet, strings: list[str], max_cells: int) -> None:
        self.sheet, self.strings, self.max_cells = sheet, strings, max_cells
        self.row = -1  # zero-based, the current <row>
        self.col = -1  # zero-based, the last cell's column in this row
        self.cells = 0
        self.a1 = ""
        self.kind: str | None = None  # the cell's t attribute
        self.formula: dict[str, str] | None = None  # the <f>'s attributes
        self.text: list[str] | None = None  # characters being collected
        self.value: str | None = None
        self.f_text: str | None = None
        self.inline: list[str] = []
        self.groups: dict[str, SharedGroup] = {}
        self.pending: list[tuple[str, int, int, str]] = []  # members seen before their master
        self.depth_in_is = 0

    # -- expat -----------------------------------------------------------------
    def start(self, tag: str, attrs: dict[str, str]) -> None:
        ns, _, local = tag.rpartition(" ")
        if ns not in _MAIN:
            return
        if local == "c":
            self._cell_start(attrs.get("r"), attrs.get("t"))
        elif local == "f":
            self.formula, self.text = attrs, []
        elif local == "v":
            self.text = []
        elif local == "row":
            self._row(attrs.get("r"))
        elif local == "is":
            self.inline, self.depth_in_is = [], 1
        elif local == "t" and self.depth_in_is:
            self.text = []
        elif local == "rPh" and self.depth_in_is:
            self.depth_in_is += 1  # phonetic runs are not the cell's text

    def end(self, tag: str) -> None:
        ns, _, local = tag.rpartition(" ")
        if ns not in _MAIN:
            return
        if local == "c":
            self._cell_end()
        elif local == "f":
            self.f_text = "".join(self.text or ())
            self.text = None
        elif local == "v":
            self.value = "".join(self.text or ())
            self.text = None
            if len(self.value) > MAX_TEXT:
                raise BadSheet(f"a cell holds over {MAX_TEXT:,} characters")
        elif local == "t" and self.depth_in_is == 1 and self.text is not None:
            self.inline.append("".join(self.text))
            self.text = None
        elif local == "rPh" and self.depth_in_is:
            self.depth_in_is -= 1
        elif local == "is":
            self.value, self.depth_in_is = "".join(self.inline), 0
            if len(self.value) > MAX_TEXT:
                raise BadSheet(f"a cell holds over {MAX_TEXT:,} characters")

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)
            if len(data) > MAX_TEXT and len(self.text) == 1:
                raise BadSheet(f"a cell holds over {MAX_TEXT:,} characters")

    # -- cells -------------------------------------------------------------------
    def _row(self, r: str | None) -> None:
        if r is None:
            self.row += 1
        else:
            if not r.isdigit() or len(r) > 7 or not 1 <= int(r) <= address.MAX_ROWS:
                raise BadSheet(f"row number {r[:20]!r} lies outside Excel's grid")
            row = int(r) - 1
            if row <= self.row:
                raise BadSheet(f"row {r} comes after row {self.row + 1}")
            self.row = row
        self.col = -1

    def _cell_start(self, r: str | None, kind: str | None) -> None:
        self.cells += 1
        if self.cells > self.max_cells:
            raise BadSheet(f"more than {self.max_cells:,} cells in one sheet")
        if r is None:
            col = self.col + 1
        else:
            m = _CELL_REF.fullmatch(r)
            if m is None:
                raise BadSheet(f"a cell reference {r[:20]!r} lies outside Excel's grid")
            letters = m.group(1)
            col = _COLS.get(letters)
            if col is None:
                col = address.col_number(letters)
            row = int(m.group(2)) - 1
            if col >= address.MAX_COLS or not 0 <= row < address.MAX_ROWS:
                raise BadSheet(f"a cell reference {r[:20]!r} lies outside Excel's grid")
            _COLS[letters] = col  # remembered only once known to lie on the grid
            if row != self.row:
                if row < self.row:
                    raise BadSheet(f"cell {r} lies above row {self.row + 1}")
                self.row = row
            if col <= self.col:
                raise BadSheet(f"cell {r} repeats or comes before an earlier cell of its row")
        if self.row < 0 or col >= address.MAX_COLS:
            raise BadSheet("a cell lies outside any row of Excel's grid")
        self.col = col
        self.a1 = r if r is not None else address.render(self.row, col)
        self.kind = kind
        self.formula = self.f_text = self.value = None

    def _cell_end(self) -> None:
        a1, kind, raw = self.a1, self.kind, self.value
        if self.formula is not None:
            self._formula(a1, self.formula, self.f_text or "")
        if raw is None or (not raw and kind in (None, "n", "b", "e")):
            return  # no cached value (openpyxl writes <v></v> for a formula)
        if kind is None or kind == "n":
            # digits only: Python's float() would also take 'nan' and 'inf'; a number too
            # large for a double (Gnumeric saves an overflow so) reads as infinity
            if not _NUMBER.fullmatch(raw.strip()):
                raise BadSheet(f"cell {a1} holds {raw[:20]!r} as a number")
            value = float(raw)
        elif kind == "s":
            if not raw.strip().isdigit() or int(raw) >= len(self.strings):
                raise BadSheet(f"cell {a1} points at shared text {raw[:20]!r}, which is missing")
            value = self.strings[int(raw)]
        elif kind in ("str", "inlineStr"):
            value = raw
        elif kind == "b":
            flag = raw.strip().lower()
            if flag not in ("0", "1", "true", "false"):
                raise BadSheet(f"cell {a1} holds {raw[:20]!r} as a logical")
            value = flag in ("1", "true")
        elif kind == "e":
            value = as_error(raw) or ExcelError(raw[:16])
        else:
            value = raw  # a date cell (t="d") as its ISO text
        self.sheet.values.put(self.row, self.col, value)

    def _formula(self, a1: str, attrs: dict[str, str], text: str) -> None:
        formulas = self.sheet.formulas
        if attrs.get("t") == "shared":
            si = attrs.get("si", "")
            group = self.groups.get(si)
            if text:  # a master: it holds the text (Excel: first in its block)
                group = self.groups[si] = SharedGroup(self.row, self.col, text)
                formulas.groups.append(group)
            elif group is None:
                raise BadSheet(f"cell {a1} belongs to shared formula {si[:20]!r}, which has none")
            else:
                group.add(self.row, self.col)
            formulas.put(self.row, self.col, group)
            return
        if attrs.get("t") in ("array", "dataTable"):
            formulas.arrays.add((self.row, self.col))  # refused by name when evaluated
        formulas.put(self.row, self.col, text)


def read_sheet(
    open_part: Callable[[], IO[bytes]], name: str, strings: list[str], max_cells: int
) -> SavedSheet:
    """Stream one worksheet part into a SavedSheet: by the fast scanner where the part
    is written as Excel, LibreOffice and XlsxWriter write it, else by expat."""
    from .fast import NotPlain, scan

    collecting = gc.isenabled()
    gc.disable()  # millions of new cells and no cycles among them: the collector only costs
    try:
        sheet = SavedSheet(name, SavedFormulas(name))
        with open_part() as part:
            try:
                scan(part, _SheetHandler(sheet, strings, max_cells))
                return sheet
            except NotPlain:
                pass
        sheet = SavedSheet(name, SavedFormulas(name))
        with open_part() as part:
            _expat(part, _SheetHandler(sheet, strings, max_cells))
        return sheet
    finally:
        if collecting:
            gc.enable()


def _expat(part: IO[bytes], handler: _SheetHandler) -> None:
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.chars
    parser.EntityDeclHandler = _no_entities
    try:
        while chunk := part.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise BadSheet(f"damaged XML ({expat.errors.messages.get(exc.code, exc)})") from None


def _no_entities(*_: object) -> None:
    raise BadSheet("the part declares XML entities")
