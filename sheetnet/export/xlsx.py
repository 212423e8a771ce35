"""Write a workbook model and its computed values as an .xlsx file.

Every formula cell carries its formula and the engine's value as the cached
result, so pandas, previewers and spreadsheet applications show the right
numbers before any recalculation. Output is byte-for-byte deterministic, and
the file appears atomically: a failed or interrupted write leaves no partial file.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import glob
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson
import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellFormulaTuple, Worksheet

from ..engine import address
from ..engine.errors import ExcelError
from ..engine.evaluate import Results
from ..engine.expr import Expr
from ..engine.workbook import Cell, Fill, Role, Sheet, Workbook
from . import fingerprint, package

# A fixed creation date makes builds byte-identical (edits are told apart by the
# fingerprint in the zip comment, see fingerprint.py).
STAMP = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
AUTHOR = "sheetnet"

_STYLES = {
    Role.HEADER: {"bold": True, "bg_color": "#D9E1F2", "bottom": 1},
    Role.LABEL: {"italic": True, "font_color": "#595959"},
    Role.INPUT: {
        "bg_color": "#FFF2CC",
        "font_color": "#1F3FBF",
        "border": 1,
        "border_color": "#BF9000",
    },
    Role.FORMULA: {},
    Role.EXERCISE: {"bg_color": "#E2EFDA", "border": 2, "border_color": "#548235"},
}


class _Formats:
    """One XlsxWriter Format per (role, number format), created on first use."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.cache: dict[tuple[Role, str | None], Format | None] = {}
        self.named: dict[str, Format] = {}

    def title(self) -> Format:
        if "title" not in self.named:
            self.named["title"] = self._add({"bold": True, "font_size": 16})
        return self.named["title"]

    def get(self, role: Role, number_format: str | None) -> Format | None:
        key = (role, number_format)
        if key not in self.cache:
            props = dict(_STYLES[role])
            if number_format:
                props["num_format"] = number_format
            self.cache[key] = self._add(props) if props else None
        return self.cache[key]

    def _add(self, props: dict) -> Format:
        """A new format, numbered now: in the order formats are made, not the order
        the cells that use them are written (worksheets are written in parallel)."""
        fmt = self.book.add_format(props)
        fmt._get_xf_index()
        return fmt


class ErrorCode(str):
    """An error's code as a formula's stored result: text for XlsxWriter's own code
    (chart caches), marked so the cell is written as an error (t="e"), while a text
    result that happens to read '#N/A' stays text."""


def _cached(value: object) -> object:
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
        starts: dict[int, list] = {}
        for entry in self._fills:
            starts.setdefault(entry[0].first, []).append(entry)
        active: list = []
        ends = address.MAX_ROWS  # the first row after which an active fill ends
        table, comments, row_info = self.table, self.comments, self.row_info
        write = self.fh.write
        values, width = self._values, self._width
        letters = [address.col_letters(c) for c in range(self.dim_colmax + 1)]
        texts: list[str] = []
        chunk_end = chunk_start = self.dim_rowmin  # rows whose numbers are in `texts`
        deflate_pending = getattr(self.fh, "deflate_pending", None)
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            if row == chunk_end:  # the next rows' numbers, formatted in one call
                if deflate_pending is not None:
                    deflate_pending()  # the rows written so far (package.py)
                chunk_start, chunk_end = row, row + max(1, _CHUNK_CELLS // width)
                texts = _number_texts(values[chunk_start * width : chunk_end * width])
            if row > ends or row in starts:
                active = [e for e in active if e[0].last >= row]
                if row in starts:
                    active = sorted(active + starts[row], key=lambda e: e[0].col)
                ends = min(e[0].last for e in active) if active else address.MAX_ROWS
            singles = table.get(row)
            if not active and not singles:
                if row in row_info or row in comments:
                    self._write_empty_row(row, self.row_spans.get(row // 16), row_info.get(row))
                continue
            self._write_row(row, self.row_spans.get(row // 16), row_info.get(row))
            pending = sorted(singles) if singles else ()
            at, count = 0, len(pending)
            number, base = str(row + 1), (row - chunk_start) * width
            parts: list[str] = []
            add = parts.append
            for entry in active:
                if at < count and pending[at] < entry[7]:
                    write("".join(parts))
                    parts.clear()
                    while at < count and pending[at] < entry[7]:
                        self._write_cell(row, pending[at], singles[pending[at]])  # type: ignore[index]
                        at += 1
                style = entry[4]
                if row == entry[6]:
                    add(self._fill_row(entry, row))
                    continue
                member = entry[3]
                for col in entry[5]:
                    text = texts[base + col]
                    if text != "null":
                        add(f'<c r="{letters[col]}{number}"{style}>{member}<v>{text}</v></c>')
                    else:
                        add(self._fill_cell(entry, row, col, member))
            write("".join(parts))
            while at < count:
                self._write_cell(row, pending[at], singles[pending[at]])  # type: ignore[index]
                at += 1
            write("</row>")

    def _get_range_data(self, row_start: int, col_start: int, row_end: int, col_end: int):  # type: ignore[no-untyped-def]
        """Chart caches read streamed fills' values too, as they would read the table."""
        if not getattr(self, "_fills", None):
            return super()._get_range_data(row_start, col_start, row_end, col_end)
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
        data: list = []
        for row in range(row_start, row_end + 1):
            if row not in self.table and not _inside(self._rows_filled, row):
                data.append(None)  # as XlsxWriter: one None for a row without cells
                continue
            for col in range(col_start, col_end + 1):
                if row in self.table and col in self.table[row]:
                    data += super()._get_range_data(row, col, row, col)
                elif _inside(self._spans_by_col.get(col, []), row):
                    data.append(_cached(self._values[row * self._width + col]))
                else:
                    data.append(None)
        return data

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
        kind, text = _typed(_cached(value))
        return f"<c{attrs}{kind}>{formula}<v>{text}</v></c>"

    def _inherits(self, row: int, col: int) -> bool:
        """Whether a cell without a format takes its row's or column's format."""
        info = self.row_info.get(row)
        if info is not None and info.row_format:
            return True
        info = self.col_info.get(col)
        return info is not None and info.column_format is not None


def _write_cell(
    ws: FormulaWorksheet, sheet: Sheet, row: int, col: int, cell: Cell, value: object,
    fmt: Format | None,
) -> None:  # fmt: skip
    content = cell.content
    if cell.role is Role.FORMULA:
        ws.write_rendered(row, col, content, fmt, _cached(value))  # type: ignore[arg-type]
    elif content is None:
        ws.write_blank(row, col, None, fmt)  # an exercise: empty, marked by its colour
    elif type(content) is str:
        ws.write_string(row, col, content, fmt)  # text stays text, never a formula
    elif type(content) is bool:
        ws.write_boolean(row, col, content, fmt)
    elif type(content) is ExcelError:
        ws.write_formula(row, col, "=" + content.code, fmt, content.code)
    else:
        ws.write_number(row, col, content, fmt)  # type: ignore[arg-type]
    if cell.note:
        _note(ws, row, col, cell.note)


def _note(ws: Worksheet, row: int, col: int, text: str) -> None:
    ws.write_comment(row, col, text, {"x_scale": 2, "y_scale": 1.5})


def _master_formula(f: Fill, sheet: str, group: int) -> str:
    """The <f> element of a fill's first cell: the formula, and for a shared formula
    the range it covers."""
    text = _escape(f.expr.render(sheet))
    if f.size == 1:
        return f"<f>{text}</f>"
    ref = f"{address.render(f.first, f.col)}:{address.render(f.last, f.last_col)}"
    return f'<f t="shared" ref="{ref}" si="{group}">{text}</f>'


SHARED = "\0"  # marks formula text that is a whole <f> element (a shared formula)


def _write_fill(ws: FormulaWorksheet, sheet: Sheet, f: Fill, results: Results,
                fmt: Format | None, group: int, stream: bool = True) -> None:  # fmt: skip
    """A filled formula as Excel saves a fill: one shared formula, written in full in its
    first cell (with the range it covers) and referred to by number in the others,
    which each read it shifted to their own row and column."""
    values, width = results.array(sheet.name)
    if stream:
        ws.stream_fill(f, fmt, group, values, width)
        if f.note:
            _note(ws, f.first, f.col, f.note)
        return
    write = ws.write_rendered
    if f.size == 1:
        text = f.expr.formula(sheet.name)
        write(f.first, f.col, text, fmt, _cached(values[f.first * width + f.col]))
    else:
        master = SHARED + _master_formula(f, sheet.name, group)
        member = f'={SHARED}<f t="shared" si="{group}"/>'
        for row in range(f.first, f.last + 1):
            for col in range(f.col, f.last_col + 1):
                value = _cached(values[row * width + col])
                write(row, col, member, fmt, value)
        ws.table[f.first][f.col] = ws.table[f.first][f.col]._replace(formula=master)
    if f.note:
        _note(ws, f.first, f.col, f.note)


def _populate(
    book: xlsxwriter.Workbook, wb: Workbook, results: Results, stream: bool = True
) -> None:
    formats = _Formats(book)
    values = results
    for sheet in wb.sheets.values():
        ws = book.add_worksheet(sheet.name, worksheet_class=FormulaWorksheet)
        for col, width in sorted(sheet.col_widths.items()):
            ws.set_column(col, col, width)
        if sheet.freeze:
            ws.freeze_panes(*sheet.freeze)
        for (row, col), cell in sorted(sheet.cells.items()):
            fmt = formats.get(cell.role, cell.number_format)
            if (row, col) in sheet.title_cells:
                fmt = formats.title()
            _write_cell(ws, sheet, row, col, cell, values.get((sheet.name, row, col)), fmt)
        for group, f in enumerate(sheet.fills):
            fmt = formats.get(Role.FORMULA, f.number_format)
            _write_fill(ws, sheet, f, results, fmt, group, stream)
        _print_setup(ws, sheet)
        for r1, c1, r2, c2, diverging in sheet.color_scales:
            ws.conditional_format(r1, c1, r2, c2, DIVERGING if diverging else COUNTS)
        _charts(book, ws, sheet)
    for name, target in sorted(wb.names.items()):
        book.define_name(name, "=" + _absolute(target))
    book.set_properties(
        {
            "title": wb.title,
            "author": AUTHOR,
            "created": STAMP,
            "comments": "Generated by sheetnet: inputs are the yellow cells.",
        }
    )
    for key, text in sorted(wb.properties.items()):
        book.set_custom_property(key, text)


# Colour scales: weights blue below zero, red above; counts white to red.
DIVERGING = {
    "type": "3_color_scale",
    "min_color": "#5B9BD5",
    "mid_type": "num",
    "mid_value": 0,
    "mid_color": "#FFFFFF",
    "max_color": "#E15759",
}
COUNTS = {"type": "2_color_scale", "min_color": "#FFFFFF", "max_color": "#E15759"}


def _print_setup(ws: Worksheet, sheet: Sheet) -> None:
    """Pages a learner can read: one page wide (or the sheet's scale), its print areas,
    header rows repeated, charts whole, and a line atop each page on what is left out."""
    if sheet.landscape:
        ws.set_landscape()
    ws.set_paper(9)  # A4
    if sheet.print_scale is not None:
        ws.set_print_scale(sheet.print_scale)  # manual page breaks count (fit-to ignores them)
    else:
        ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if sheet.print_areas:
        quoted = address.quote_sheet(sheet.name)
        ws.print_area_range = ",".join(  # Excel's Print_Area: several ranges, comma-separated
            f"{quoted}!{address.render(r1, c1, True, True)}:{address.render(r2, c2, True, True)}"
            for r1, c1, r2, c2 in sheet.print_areas
        )
    if sheet.print_rows is not None:
        ws.repeat_rows(*sheet.print_rows)
    if sheet.page_breaks:
        ws.set_h_pagebreaks([r for r in sheet.page_breaks if r > 0])
    if sheet.print_note:
        ws.set_header("&C&9" + sheet.print_note.replace("&", "&&"))
    ws.set_footer("&L&A&R&P / &N")


def _charts(book: xlsxwriter.Workbook, ws: Worksheet, sheet: Sheet) -> None:
    """Native line charts, where the sheet anchors them or stacked beside its cells."""
    _, used_cols = sheet.extent()
    for i, spec in enumerate(sheet.charts):
        scatter = spec.scatter or spec.log_x
        chart = book.add_chart(
            {"type": "scatter", "subtype": "straight"} if scatter else {"type": "line"}
        )
        for series in spec.series:
            chart.add_series(
                {
                    "name": series.name,
                    "categories": list(series.categories),
                    "values": list(series.values),
                    **(
                        {"marker": {"type": "diamond", "size": 9}, "line": {"none": True}}
                        if series.marker
                        else {"marker": {"type": "none"}}
                    ),
                }
            )
        chart.set_title({"name": spec.title})
        x_axis: dict[str, object] = {"name": spec.x_title}
        if spec.log_x:
            x_axis["log_base"] = 10
        if spec.x_range is not None:
            x_axis["min"], x_axis["max"] = spec.x_range
        chart.set_x_axis(x_axis)
        y_axis: dict[str, object] = {"name": spec.y_title}
        if spec.log_y:
            y_axis["log_base"] = 10
        if spec.y_range is not None:
            y_axis["min"], y_axis["max"] = spec.y_range
        if spec.y_format:
            y_axis["num_format"] = spec.y_format
        chart.set_y_axis(y_axis)
        chart.set_size({"width": 720, "height": 360})
        row, col = spec.anchor if spec.anchor is not None else (1 + 19 * i, used_cols + 1)
        ws.insert_chart(row, col, chart)


def _absolute(target: object) -> str:
    from ..engine.expr import Range, Ref

    if isinstance(target, Ref):
        cell = address.render(target.row, target.col, True, True)
        return f"{address.quote_sheet(target.sheet)}!{cell}"
    assert isinstance(target, Range)
    r1, c1, r2, c2 = target.bounds()
    return (
        f"{address.quote_sheet(target.sheet)}!{address.render(r1, c1, True, True)}:"
        f"{address.render(r2, c2, True, True)}"
    )


def write_xlsx(
    wb: Workbook,
    results: Results,
    path: str | os.PathLike[str],
    before_replace: Callable[[], object] | None = None,
    stream: bool = True,
    parallel: bool = True,
) -> Path:
    """Write `wb` with `results` as cached values to `path`, atomically.

    `before_replace` runs right before the finished file takes the target's place
    (it may raise to keep the target as it is). `stream=False` writes fills through
    XlsxWriter's cell table instead (slower; the same bytes), `parallel=False` writes
    every worksheet in this process (the same bytes again)."""
    path = Path(path)
    made = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _write_atomically(wb, results, path, before_replace, stream, parallel)
    except BaseException:
        for folder in made:  # deepest first: a failed build leaves no new empty folders
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _write_atomically(
    wb: Workbook,
    results: Results,
    path: Path,
    before_replace: Callable[[], object] | None,
    stream: bool,
    parallel: bool,
) -> Path:
    sweep_parts(path)
    prefix = f".{path.stem}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".xlsx.part", dir=path.parent)
    os.close(fd)
    try:
        book = package.Book(
            tmp,
            {
                "in_memory": True,  # fixed zip entry dates: deterministic bytes
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        book.parallel = parallel
        _populate(book, wb, results, stream)
        book.close()
        fingerprint.stamp(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is not what a user expects
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except xlsxwriter.exceptions.XlsxWriterException as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(
            f"{path}: not written ({str(exc)[:200]}); any old file is untouched"
        ) from None
    except BaseException:  # the old file stays; the part goes (signals arrive as SystemExit)
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sweep_parts(path: Path) -> None:
    """Remove the unfinished parts of earlier writes of `path` whose process is gone
    (killed mid-write: sheetnet names a part .<stem>.<pid>.<random>.xlsx.part)."""
    for part in path.parent.glob(f".{glob.escape(path.stem)}.*.xlsx.part"):
        pid = part.name[len(path.stem) + 2 :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            part.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill(pid, 0) would end the process there: sweep nothing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True
