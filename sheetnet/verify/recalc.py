"""`verify`: does a spreadsheet application, recalculating from scratch, agree with
the cached values sheetnet wrote?"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from functools import partial
from pathlib import Path

from ..engine import Expr, Workbook, address
from ..lessons.kit import workbook
from ..metadata import parse_custom_properties
from ..reader import Package
from .apps import APPS, App
from .engine_app import recalculate_here
from .local import DRIFT, SavedValues, drifted
from .readback import read_workbook
from .report import Report

SENTINEL = "-7777777.125"  # planted in one cell: it survives only if nothing recalculated
_FORMULA_CELL = re.compile(
    r'<c r="([A-Z]+[0-9]+)"((?: [a-z]+="[^"]*")*)><f[^>]*>[^<]*</f><v>([^<]*)</v></c>'
)


def _plant_sentinel(src: Path, dst: Path) -> tuple[str, str] | None:
    """Copy src to dst with one numeric formula cell's cached value replaced by SENTINEL.

    Returns (sheet part, cell) of the planted cell, or None when no cell qualifies.
    """
    planted = None
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if planted is None and re.fullmatch(r"xl/worksheets/sheet[0-9]+\.xml", info.filename):
                text = data.decode("utf-8")
                for m in _FORMULA_CELL.finditer(text):
                    if 't="' in m.group(2) and 't="n"' not in m.group(2):
                        continue  # text, logical or error results: not a number slot
                    planted = (info.filename, m.group(1))
                    a, b = m.span(3)
                    data = (text[:a] + SENTINEL + text[b:]).encode("utf-8")
                    break
            zout.writestr(info, data)
    return planted


def _model(properties: dict[str, str], saved: dict) -> Workbook | None:
    """The lesson's model, when `path` is a sheetnet workbook (for local agreement)."""
    from ..lessons import get
    from ..metadata import lesson_of
    from .roundtrip import holds_its_cells, region_reader

    try:
        recorded = lesson_of(properties, region_reader(saved))
        holds_its_cells(get(recorded.lesson), recorded.params, saved)
    except (ValueError, KeyError):
        return None
    return workbook(get(recorded.lesson), recorded.params)


def _judge(
    app: App,
    formula: str,
    cached_values: dict,
    model: Workbook | None,
    sheet: str,
    cell: str,
    contexts: tuple[SavedValues, SavedValues],
    cached: object,
    got: object,
) -> str | None:
    """Why the application's `got` may stand beside the cached value: a known
    difference of the application, or drift: the formula, evaluated by the engine,
    gives the cached value on the cached inputs and the application's value on the
    application's inputs, so only the inputs differ (carried from earlier cells)."""
    why = app.known_difference(cached, got, formula=formula, values=cached_values)
    if why or model is None or sheet not in model.sheets:
        return why
    at = address.parse(cell)
    mine = model[sheet].cell(at.row, at.col)
    if mine is None or not isinstance(mine.content, Expr):
        return None
    file_ctx, app_ctx = contexts
    if drifted(mine.content, cached, got, file_ctx, app_ctx):
        return DRIFT
    local = mine.content.evaluate(app_ctx)
    values = app_ctx.sheets[sheet].values if sheet in app_ctx.sheets else {}
    return app.known_difference(local, got, formula=formula, values=values)


def verify_file(
    path: str | os.PathLike[str], rtol: float = 1e-12, app: App | None = None
) -> Report:
    """Recalculate `path` in `app` (default LibreOffice) and compare every formula
    cell with its cached value."""
    path = Path(path)
    app = app or APPS["libreoffice"]
    with Package(path) as package:  # checked and read through one open handle
        saved = package.sheets()
        sheet_of_part = {part: name for name, part in package.parts.items()}
        properties = parse_custom_properties(package.read("docProps/custom.xml", 1 << 20))
        notes = package.notes
    model = _model(properties, saved)
    report = Report(f"{path.name}: {app.title} recalculation vs cached values", rtol=rtol)
    report.notes += notes
    if app.name == "sheetnet":
        recalculated, notes = recalculate_here(saved)
        report.notes += notes
        planted = None
    else:
        with tempfile.TemporaryDirectory(prefix="sheetnet-verify-") as tmp:
            staged = Path(tmp, path.stem + ".xlsx")
            planted = _plant_sentinel(path, staged)
            recalculated = read_workbook(app.recalculate(staged, Path(tmp, "out")))
    contexts = (SavedValues(saved), SavedValues(recalculated))
    for name, sheet in saved.items():
        got = recalculated.get(name)
        if got is None:
            report.add_problem(name, "-", "sheet", None, "sheet missing after recalculation")
            continue
        rep = report.sheet(name)
        for row, col, _entry in sheet.formulas.cells():
            cached, value = sheet.values.at(row, col), got.values.at(row, col)
            if type(cached) is float and cached == value:  # the common case, at full speed
                rep.compared += 1
                continue
            cell = address.render(row, col)
            formula = sheet.formulas.text_at(row, col)
            report.compare(
                name,
                cell,
                cached,
                value,
                partial(_judge, app, formula, sheet.values, model, name, cell, contexts),
            )
    drift = [s for s in report.sheets.values() if any(m.reason == DRIFT for m in s.accepted)]
    if drift:
        worst = max(drift, key=lambda s: s.max_rel)
        report.notes.append(
            f"{sum(len(s.accepted) for s in drift):,} cell(s) differ from the cached values "
            f"by drift alone (largest: {worst.max_rel:.2g} relative, sheet {worst.sheet}): "
            f"each agrees with {app.title}'s own inputs, formula by formula"
        )
    if planted:
        name, cell = sheet_of_part[planted[0]], planted[1]
        value = recalculated[name].values.get(cell)
        if value == float(SENTINEL):
            report.add_problem(
                name,
                cell,
                "recalculated",
                value,
                f"{app.title} did not recalculate (planted value survived)",
            )
        else:
            report.notes.append(
                f"recalculation confirmed: {name}!{cell} was planted with "
                f"{SENTINEL} and came back {value!r}"
            )
    return report
