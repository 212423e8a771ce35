"""Write a workbook model and its computed values as an .xlsx file.

Every formula cell carries its formula and the engine's value as the cached
result, so pandas, previewers and spreadsheet applications show the right
numbers before any recalculation. Output is byte-for-byte deterministic, and
the file appears atomically: a failed or interrupted write leaves no partial file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ..engine import address
from ..engine.errors import ExcelError
from ..engine.evaluate import Results
from ..engine.workbook import Cell, Fill, Role, Sheet, Workbook
from . import fingerprint, package
from .worksheet import FormulaWorksheet, cached, numbered

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
        return numbered(self.book.add_format(props))


def _write_cell(
    ws: FormulaWorksheet, sheet: Sheet, row: int, col: int, cell: Cell, value: object,
    fmt: Format | None,
) -> None:  # fmt: skip
    content = cell.content
    if cell.role is Role.FORMULA:
        ws.write_rendered(row, col, content, fmt, cached(value))  # type: ignore[arg-type]
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


def _write_fill(ws: FormulaWorksheet, sheet: Sheet, f: Fill, results: Results,
                fmt: Format | None, group: int, stream: bool = True) -> None:  # fmt: skip
    """A filled formula as Excel saves a fill: one shared formula, written in full in its
    first cell (with the range it covers) and referred to by number in the others,
    which each read it shifted to their own row and column."""
    values, width = results.array(sheet.name)
    if stream:
        ws.stream_fill(f, fmt, group, values, width)
    else:
        ws.table_fill(f, fmt, group, values, width)
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
        # labels at the low end: where a curve crosses 0, the axis line sits mid-chart
        x_axis: dict[str, object] = {"name": spec.x_title, "label_position": "low"}
        if spec.log_x:
            x_axis["log_base"] = 10
        if spec.x_range is not None:
            x_axis["min"], x_axis["max"] = spec.x_range
        chart.set_x_axis(x_axis)
        y_axis: dict[str, object] = {"name": spec.y_title, "label_position": "low"}
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
