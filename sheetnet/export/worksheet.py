"""XlsxWriter's Worksheet, extended: formula cells written lean, fills streamed.

The one module that depends on XlsxWriter's private worksheet code, so that a new
XlsxWriter release is checked here; xlsx.py maps the model through the public API.
(package.py replaces XlsxWriter's private packaging: its packager and zip file.)

Checked against XlsxWriter 3.3.0 and 3.3.1, the newest release when this was
written: every workbook, exercises included, builds byte-identical with either.
3.2.9 and older do not work: they keep a row's options in `set_rows` and a column's
in a list, where 3.3 has `row_info` and `col_info` (RowInfo, ColumnInfo). pyproject
pins XlsxWriter>=3.3,<4. tests/test_fills.py compares a formula cell's XML with
XlsxWriter's own, byte for byte, and tests/test_stream.py streamed fills with the
same fills put into the cell table.

What this relies on, in xlsxwriter.worksheet.Worksheet unless named otherwise:

- overridden: `_write_rows()` (the rows inside <sheetData>, called by
  `_write_sheet_data`), `_calculate_spans()` (sets `row_spans`: a block of 16 rows,
  `row // 16`, -> "first:last" columns, 1-based), `_write_cell(row, col, cell)` (one
  <c> element from a cell-table tuple) and `_get_range_data(r1, c1, r2, c2)` (the
  values a chart caches, called by Workbook._add_chart_data; None for a row without
  cells or a cell not written)
- called: `_check_dimensions(row, col)` (non-zero outside the grid; widens `dim_*`),
  `_write_row(row, spans, row_info)` and `_write_empty_row(...)` (a <row> start tag,
  an empty <row>), Format's `_get_xf_index()` (a format's number, given on the
  first call) and xlsxwriter.utility's undocumented `xl_rowcol_to_cell_fast`
- read or written: `table` (row -> column -> cell tuple, a defaultdict),
  CellFormulaTuple (the "Formula" namedtuple: formula, format, value), `comments`
  (row -> column -> note), `row_info` (row -> RowInfo, its `row_format`),
  `col_info` (column -> ColumnInfo, its `column_format`), `dim_rowmin`,
  `dim_rowmax`, `dim_colmax`, `row_spans`, `fh` (the XML text's writer) and `name`
- written as XlsxWriter writes it: a formula cell's XML, its text escaped as
  XMLwriter's `_escape_data` does, and "</row>"
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

import orjson
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellFormulaTuple, Worksheet

from ..engine import address
from ..engine.errors import ExcelError
from ..engine.expr import Expr
from ..engine.workbook import Fill


class ErrorCode(str):
    """An error's code as a formula's stored result: text for XlsxWriter's own code
    (chart caches), marked so the cell is written as an error (t="e"), while a text
    result that happens to read '#N/A' stays text."""


def cached(value: object) -> object:
    """The engine's value as a formula's stored result."""
    if type(value) is ExcelError:
        return ErrorCode(value.code)
    return 0 if value is None else value


def _typed(value: object) -> tuple[str, object]:
    """A formula's stored result as XML: its cell type attribute and its <v> text."""
    if isinstance(value, bool):
        return ' t="b"', 1 if value else 0
    if type(value) is ErrorCode:
        return ' t="e"', value
    if isinstance(value, str):
        return (' t="str"' if value else ""), _escape(value)
    if type(value) is float:
        return "", _number_texts([value])[0]
    return "", value


def _number_texts(values: list) -> list[str]:
    """Each float's shortest text that reads back as the same float, "null" for
    anything else (or a float that is not finite).

    Formatting floats is a third of a big workbook's writing time with Python's
    repr (0.5 µs each); orjson finds the same shortest digits five to ten times
    faster. Its spelling differs from repr's only in form (1e-7 for 1e-07, 0.00001
    for 1e-05); positive exponents get their sign (1e+16), as JavaScript and Excel
    write them."""
    floats = [v if type(v) is float else None for v in values]
    text = orjson.dumps(floats).decode()
    if "e" in text:
        text = _POSITIVE_EXPONENT.sub("e+", text)
    return text[1:-1].split(",")


_POSITIVE_EXPONENT = re.compile(r"e(?=\d)")


def _escape(text: str) -> str:
    """XML text escaping as XlsxWriter does it for cell data."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Row intervals (first, last), sorted and merged where they touch or overlap."""
    out: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def _inside(spans: list[tuple[int, int]], row: int) -> bool:
    """Whether `row` lies in one of `spans` (sorted, not overlapping)."""
    at = bisect.bisect_right(spans, (row, address.MAX_ROWS)) - 1
    return at >= 0 and spans[at][0] <= row <= spans[at][1]


# Cells whose values are formatted (and whose XML is deflated, see package.py) at a
# time: whole rows, as many as make about this many cells. It bounds the memory a
# sheet's text takes, wide sheets included.
_CHUNK_CELLS = 32_768


class _NumberChunks:
    """The streamed fills' values as number texts (see _number_texts), formatted in
    chunks of whole rows, about _CHUNK_CELLS cells each, as rows are written in order.
    As a chunk starts, the XML written so far is deflated (package.py's writer)."""

    def __init__(
        self, values: list, width: int, first_row: int, deflate_pending: Callable[[], object] | None
    ) -> None:
        self.values, self.width = values, width
        self.rows = max(1, _CHUNK_CELLS // width)
        self.deflate_pending = deflate_pending
        self.start = self.end = first_row  # rows whose texts are in `texts`
        self.texts: list[str] = []

    def row(self, row: int) -> tuple[list[str], int]:
        """The texts that hold `row`'s, and where its column 0 is in them (`row` is
        the row after the one asked for last, or the first row)."""
        if row == self.end:
            if self.deflate_pending is not None:
                self.deflate_pending()  # the rows written so far
            self.start, self.end = row, row + self.rows
            self.texts = _number_texts(self.values[self.start * self.width : self.end * self.width])
        return self.texts, (row - self.start) * self.width


class _FillsByRow:
    """The streamed fills that cover a row, sorted by first column, for rows asked
    for in order: worked out again only where a fill starts or ends."""

    def __init__(self, fills: list[list]) -> None:
        self.starts: dict[int, list[list]] = {}
        for entry in fills:
            self.starts.setdefault(entry[0].first, []).append(entry)
        self.active: list[list] = []
        self.ends = address.MAX_ROWS  # the first row after which an active fill ends

    def at(self, row: int) -> list[list]:
        """The fills that cover `row`, the row after the one asked for last."""
        if row > self.ends or row in self.starts:
            active = [e for e in self.active if e[0].last >= row]
            if row in self.starts:
                active = sorted(active + self.starts[row], key=lambda e: e[0].col)
            self.active = active
            self.ends = min(e[0].last for e in active) if active else address.MAX_ROWS
        return self.active


def _master_formula(f: Fill, sheet: str, group: int) -> str:
    """The <f> element of a fill's first cell: the formula, and for a shared formula
    the range it covers."""
    text = _escape(f.expr.render(sheet))
    if f.size == 1:
        return f"<f>{text}</f>"
    ref = f"{address.render(f.first, f.col)}:{address.render(f.last, f.last_col)}"
    return f'<f t="shared" ref="{ref}" si="{group}">{text}</f>'


SHARED = "\0"  # marks formula text that is a whole <f> element (a shared formula)


def numbered(fmt: Format) -> Format:
    """`fmt`, given its number (XF index) now rather than when a cell using it is
    first written."""
    fmt._get_xf_index()
    return fmt


class FormulaWorksheet(Worksheet):
    """A worksheet that takes the engine's formulas (text or expressions, rendered
    when the sheet is written), and writes them lean.

    XlsxWriter's write_formula spends most of its time preparing the text (about
    30 regular-expression passes to add prefixes for Excel's newer functions); the
    engine renders only functions that need none, so write_rendered stores the cell
    as write_formula would, without that step. Emitting a formula cell's XML is
    likewise done in one string. Tests compare the output with XlsxWriter's own,
    byte for byte.
    """

    def write_rendered(
        self, row: int, col: int, formula: str | Expr, fmt: Format | None, value: object
    ) -> None:
        """A formula cell: its text (with "="), or its expression, rendered when the
        sheet is written (in parallel, see package.py)."""
        if self._check_dimensions(row, col):
            raise ValueError(f"cell outside Excel's grid: row {row + 1}, column {col + 1}")
        text = formula[1:] if type(formula) is str else formula
        self.table[row][col] = CellFormulaTuple(text, fmt, value)

    def _write_cell(self, row: int, col: int, cell: object) -> None:
        if type(cell) is CellFormulaTuple and type(cell.formula) is not str:
            cell = cell._replace(formula=cell.formula.render(self.name))
        fmt = getattr(cell, "format", None)
        inherited = fmt is None and (row in self.row_info or col in self.col_info)
        if type(cell) is not CellFormulaTuple or (inherited and self._inherits(row, col)):
            super()._write_cell(row, col, cell)
            return
        attrs = f' r="{xl_rowcol_to_cell_fast(row, col)}"'
        if fmt is not None:
            attrs += f' s="{fmt._get_xf_index()}"'
        kind, value = _typed(cell.value)  # type: ignore[attr-defined]
        attrs += kind
        formula = cell.formula  # type: ignore[attr-defined]
        if formula[:1] == SHARED:  # a shared formula's <f> element, written whole
            self.fh.write(f"<c{attrs}>{formula[1:]}<v>{value}</v></c>")
        else:
            self.fh.write(f"<c{attrs}><f>{_escape(formula)}</f><v>{value}</v></c>")

    # -- fills, streamed ----------------------------------------------------------
    # A fill's cells are not put into XlsxWriter's cell table (a dict entry and a tuple
    # per cell): rows are written straight from the engine's value list, merged with
    # the table's few single cells. The XML is the same, byte for byte, as writing
    # every cell through the table (tests/test_stream.py).
    # [fill, format, master <f> (rendered when its row is written), member <f>,
    # ' s="n"', columns, first row, first column, group number]
    _fills: list[list]
    _values: list
    _width: int

    def stream_fill(
        self, f: Fill, fmt: Format | None, group: int, values: list, width: int
    ) -> None:
        """Write fill `f` when the sheet is written, as shared formula number `group`
        (values from `values`, row-major). Its formula is rendered then too, so that
        the work happens where sheets are written (in parallel, see package.py)."""
        if not hasattr(self, "_fills"):
            self._fills = []
        for col in range(f.col, f.last_col + 1):
            info = self.col_info.get(col)
            if fmt is None and info is not None and info.column_format is not None:
                raise ValueError("a streamed fill cannot inherit a column format")
        cols = range(f.col, f.last_col + 1)
        style = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
        member = f'<f t="shared" si="{group}"/>'
        self._fills.append([f, fmt, None, member, style, cols, f.first, f.col, group])
        self._values, self._width = values, width
        self._check_dimensions(f.first, f.col)
        self._check_dimensions(f.last, f.last_col)

    def table_fill(self, f: Fill, fmt: Format | None, group: int, values: list, width: int) -> None:
        """Fill `f` put cell by cell into XlsxWriter's cell table, as shared formula
        number `group`: slower than stream_fill, the same bytes."""
        write = self.write_rendered
        if f.size == 1:
            text = f.expr.formula(self.name)
            write(f.first, f.col, text, fmt, cached(values[f.first * width + f.col]))
        else:
            master = SHARED + _master_formula(f, self.name, group)
            member = f'={SHARED}<f t="shared" si="{group}"/>'
            for row in range(f.first, f.last + 1):
                for col in range(f.col, f.last_col + 1):
                    value = cached(values[row * width + col])
                    write(row, col, member, fmt, value)
            self.table[f.first][f.col] = self.table[f.first][f.col]._replace(formula=master)

    def _calculate_spans(self) -> None:
        if not getattr(self, "_fills", None):
            return super()._calculate_spans()
        lo: dict[int, int] = {}
        hi: dict[int, int] = {}

        def see(block: int, c1: int, c2: int) -> None:
            if block not in lo or c1 < lo[block]:
                lo[block] = c1
            if block not in hi or c2 > hi[block]:
                hi[block] = c2

        for source in (self.table, self.comments):
            for row, cols in source.items():
                if cols and self.dim_rowmin <= row <= self.dim_rowmax:
                    see(row // 16, min(cols), max(cols))
        for f, *_ in self._fills:
            for block in range(f.first // 16, f.last // 16 + 1):
                see(block, f.col, f.last_col)
        self.row_spans = {b: f"{lo[b] + 1}:{hi[b] + 1}" for b in lo}

    def _write_rows(self) -> None:
        if not getattr(self, "_fills", None):
            return super()._write_rows()
        self._calculate_spans()
        fills = _FillsByRow(self._fills)
        deflate_pending = getattr(self.fh, "deflate_pending", None)
        numbers = _NumberChunks(self._values, self._width, self.dim_rowmin, deflate_pending)
        letters = [address.col_letters(c) for c in range(self.dim_colmax + 1)]
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            texts, base = numbers.row(row)
            active = fills.at(row)
            singles = self.table.get(row)
            if active or singles:
                self._write_cells_row(row, active, singles or {}, texts, base, letters)
            elif row in self.row_info or row in self.comments:
                self._write_empty_row(row, self.row_spans.get(row // 16), self.row_info.get(row))

    def _write_cells_row(
        self, row: int, fills: list[list], singles: dict, texts: list[str], base: int,
        letters: list[str],
    ) -> None:  # fmt: skip
        """A row with cells, in column order: the fills' (sorted by first column) and
        the table's single cells before, between and after them. A fill's cell that
        holds a number (its text formatted already: texts[base + col]) is written
        inline, as this loop runs once per streamed cell; other values go through
        _fill_cell."""
        self._write_row(row, self.row_spans.get(row // 16), self.row_info.get(row))
        write = self.fh.write
        cols = sorted(singles)
        at, count = 0, len(cols)
        number = str(row + 1)
        parts: list[str] = []  # the fills' XML, written at once
        add = parts.append
        for entry in fills:
            if at < count and cols[at] < entry[7]:
                write("".join(parts))
                parts.clear()
                at = self._write_singles(row, singles, cols, at, entry[7])
            if row == entry[6]:
                add(self._fill_row(entry, row))  # the fill's first row: the master formula
                continue
            style, member = entry[4], entry[3]
            for col in entry[5]:
                text = texts[base + col]
                if text != "null":
                    add(f'<c r="{letters[col]}{number}"{style}>{member}<v>{text}</v></c>')
                else:
                    add(self._fill_cell(entry, row, col, member))
        write("".join(parts))
        if at < count:
            self._write_singles(row, singles, cols, at, address.MAX_COLS)
        write("</row>")

    def _write_singles(self, row: int, singles: dict, cols: list[int], at: int, before: int) -> int:
        """The table's cells in `row` from cols[at] up to column `before`; returns where
        in `cols` it stopped."""
        while at < len(cols) and cols[at] < before:
            self._write_cell(row, cols[at], singles[cols[at]])
            at += 1
        return at

    def _get_range_data(self, row_start: int, col_start: int, row_end: int, col_end: int):  # type: ignore[no-untyped-def]
        """Chart caches read streamed fills' values too, as they would read the table."""
        if not getattr(self, "_fills", None):
            return super()._get_range_data(row_start, col_start, row_end, col_end)
        rows_filled, spans_by_col = self._fill_index()
        data: list = []
        for row in range(row_start, row_end + 1):
            if row not in self.table and not _inside(rows_filled, row):
                data.append(None)  # as XlsxWriter: one None for a row without cells
                continue
            for col in range(col_start, col_end + 1):
                if row in self.table and col in self.table[row]:
                    data += super()._get_range_data(row, col, row, col)
                elif _inside(spans_by_col.get(col, []), row):
                    data.append(cached(self._values[row * self._width + col]))
                else:
                    data.append(None)
        return data

    def _fill_index(self) -> tuple[list[tuple[int, int]], dict[int, list[tuple[int, int]]]]:
        """The rows the streamed fills cover (merged), and each column's rows (sorted):
        made on a chart's first look, as the fills are all known by then."""
        if not hasattr(self, "_spans_by_col"):
            self._spans_by_col: dict[int, list[tuple[int, int]]] = {}
            rows: list[tuple[int, int]] = []
            for e in self._fills:
                f = e[0]
                rows.append((f.first, f.last))
                for c in range(f.col, f.last_col + 1):
                    self._spans_by_col.setdefault(c, []).append((f.first, f.last))
            for spans in self._spans_by_col.values():
                spans.sort()
            self._rows_filled = _merged(rows)
        return self._rows_filled, self._spans_by_col

    def _fill_row(self, entry: list, row: int) -> str:
        """The XML of one row of a fill's cells (its first row holds the master)."""
        f, _, master, member = entry[:4]
        if master is None:
            master = _master_formula(f, self.name, entry[8])
        out = []
        for col in range(f.col, f.last_col + 1):
            formula = master if (row == f.first and col == f.col) else member
            out.append(self._fill_cell(entry, row, col, formula))
        return "".join(out)

    def _fill_cell(self, entry: list, row: int, col: int, formula: str) -> str:
        """One cell of a fill, whatever its value's type."""
        attrs = f' r="{address.LETTERS[col]}{row + 1}"{entry[4]}'
        value = self._values[row * self._width + col]
        kind, text = _typed(cached(value))
        return f"<c{attrs}{kind}>{formula}<v>{text}</v></c>"

    def _inherits(self, row: int, col: int) -> bool:
        """Whether a cell without a format takes its row's or column's format."""
        info = self.row_info.get(row)
        if info is not None and info.row_format:
            return True
        info = self.col_info.get(col)
        return info is not None and info.column_format is not None
