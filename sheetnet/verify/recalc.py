"""`verify`: does LibreOffice, recalculating from scratch, agree with the cached values?"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from functools import partial
from pathlib import Path

from .libreoffice import known_difference, recalculate
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


def verify_file(path: str | os.PathLike[str], rtol: float = 1e-12) -> Report:
    """Recalculate `path` in LibreOffice and compare every formula cell with its cached value."""
    path = Path(path)
    saved = read_workbook(path)
    report = Report(f"{path.name}: LibreOffice recalculation vs cached values", rtol=rtol)
    with tempfile.TemporaryDirectory(prefix="sheetnet-verify-") as tmp:
        staged = Path(tmp, path.stem + ".xlsx")
        planted = _plant_sentinel(path, staged)
        recalculated = read_workbook(recalculate(staged, Path(tmp, "out")))
    sheet_names = list(saved)
    for name, sheet in saved.items():
        got = recalculated.get(name)
        if got is None:
            report.add_problem(name, "-", "sheet", None, "sheet missing after recalculation")
            continue
        for cell, formula in sheet.formulas.items():
            report.compare(
                name,
                cell,
                sheet.values.get(cell),
                got.values.get(cell),
                partial(known_difference, formula=formula, values=sheet.values),
            )
    if planted:
        index = int(re.search(r"([0-9]+)\.xml$", planted[0]).group(1)) - 1  # type: ignore[union-attr]
        name, cell = sheet_names[index], planted[1]
        value = recalculated[name].values.get(cell)
        if value == float(SENTINEL):
            report.add_problem(
                name,
                cell,
                "recalculated",
                value,
                "LibreOffice did not recalculate (planted value survived)",
            )
        else:
            report.notes.append(
                f"recalculation confirmed: {name}!{cell} was planted with "
                f"{SENTINEL} and came back {value!r}"
            )
    return report
