"""Edit cells inside an .xlsx the way a person's keystrokes would, for round-trip tests.

Works on the sheet XML directly so everything else in the file stays as it was.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape


def _cell_pattern(cell: str) -> re.Pattern[bytes]:
    return re.compile(rb'<c r="' + cell.encode() + rb'"([^>]*?)(/>|>.*?</c>)', re.S)


def edit(src: Path, dst: Path, sheet_number: int, cells: dict[str, object]) -> None:
    """Set `cells` (A1 -> number, text, or '=formula') on sheet number `sheet_number`
    (1-based, the order of the workbook's sheets); cached values of formulas are dropped
    for edited cells only."""
    part = f"xl/worksheets/sheet{sheet_number}.xml"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                for cell, value in cells.items():
                    data = _set(data, cell, value)
            zout.writestr(info, data)


def _set(xml: bytes, cell: str, value: object) -> bytes:
    pattern = _cell_pattern(cell)
    m = pattern.search(xml)
    assert m, f"cell {cell} not found"
    attrs = re.sub(rb'\s*t="[^"]*"', b"", m.group(1))
    if isinstance(value, str) and value.startswith("="):
        body = b">" + b"<f>" + escape(value[1:]).encode() + b"</f></c>"
    elif isinstance(value, str):
        attrs += b' t="inlineStr"'
        body = b"><is><t>" + escape(value).encode() + b"</t></is></c>"
    else:
        body = b"><v>" + repr(float(value)).encode() + b"</v></c>"
    new = b'<c r="' + cell.encode() + b'"' + attrs + body
    return xml[: m.start()] + new + xml[m.end() :]


def set_cached(src: Path, dst: Path, sheet_number: int, cell: str, value: float) -> None:
    """Change only the saved value of a formula cell (its formula stays)."""
    part = f"xl/worksheets/sheet{sheet_number}.xml"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                m = _cell_pattern(cell).search(data)
                assert m and b"<f" in m.group(2), f"{cell} is not a formula cell"
                new = re.sub(rb"<v>[^<]*</v>", b"<v>" + repr(value).encode() + b"</v>", m.group(0))
                data = data[: m.start()] + new + data[m.end() :]
            zout.writestr(info, data)


_ANY_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*?)(/>|>.*?</c>)', re.S)


def fill(src: Path, dst: Path, part: str, cells: dict[str, object]) -> None:
    """Set many cells of one worksheet part in one pass (as `edit` does one): for the
    exercise workbooks, where a learner fills hundreds of cells."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                seen: set[str] = set()
                data = _ANY_CELL.sub(lambda m, seen=seen: _replace(m, cells, seen), data)
                assert seen == set(cells), f"cells not found: {sorted(set(cells) - seen)[:5]}"
            zout.writestr(info, data)


def _replace(m: re.Match[bytes], cells: dict[str, object], seen: set[str]) -> bytes:
    a1 = m.group(1).decode()
    if a1 not in cells:
        return m.group(0)
    seen.add(a1)
    return _set(m.group(0), a1, cells[a1])
