"""Recalculate a workbook with IronCalc, a spreadsheet engine in Rust (PyPI `ironcalc`).

No system install: `pip install ironcalc` (the `ironcalc` extra), so Windows and
macOS users can verify without LibreOffice. It loads the .xlsx, evaluates every
formula and saves a copy with its own results; it runs in a child process, so a
hang is stopped like any application's.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from pathlib import Path

from ...engine.errors import DIV0, NUM, ExcelError
from .base import App, AppMissing, run_app

_SCRIPT = """
import sys, ironcalc
model = ironcalc.load_from_xlsx(sys.argv[1], "en", "UTC")
model.evaluate()
model.save_to_xlsx(sys.argv[2])
"""
# Where IronCalc's answer differs from Excel's. MATCH(x, range) with match type 1 on
# unsorted values: IronCalc's search answers other positions than Excel's there.
APPROX_MATCH = "IronCalc's approximate MATCH over unsorted values differs from Excel's"
POWER_OVERFLOW = "IronCalc gives #DIV/0! for a power too large for a double, Excel #NUM!"


def known_difference(
    excel: object,
    ironcalc: object,
    formula: str | None = None,
    values: dict[str, object] | None = None,
) -> str | None:
    """Why IronCalc's `ironcalc` may stand where Excel gives `excel`, or None."""
    if excel is NUM and ironcalc is DIV0 and formula and ("^" in formula or "POWER(" in formula):
        return POWER_OVERFLOW
    approximate = formula and "MATCH(" in formula.upper() and not _exact_match(formula)
    kinds = float | ExcelError
    if approximate and isinstance(excel, kinds) and isinstance(ironcalc, kinds):
        return APPROX_MATCH
    return None


def _exact_match(formula: str) -> bool:
    """MATCH(...,0): an exact lookup, which IronCalc answers as Excel does."""
    return formula.replace(" ", "").upper().count(",0)") >= formula.upper().count("MATCH(")


def available() -> str | None:
    return sys.executable if importlib.util.find_spec("ironcalc") is not None else None


def recalculate(
    src: str | os.PathLike[str], outdir: str | os.PathLike[str], timeout: float | None = None
) -> Path:
    """Load `src` in IronCalc, evaluate every formula, save as .xlsx in `outdir`.

    IronCalc saves no custom document properties; the source's are put back into the
    copy, so a sheetnet workbook recalculated by IronCalc is still recognised."""
    if available() is None:
        raise AppMissing(f"IronCalc is not installed ({APP.install})")
    src, outdir = Path(src).resolve(), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / (src.stem + ".xlsx")
    run_app("IronCalc", [sys.executable, "-c", _SCRIPT, str(src), str(out)], out, timeout)
    _keep_custom_properties(src, out)
    return out


_CUSTOM = "docProps/custom.xml"
_CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
)


def _keep_custom_properties(src: Path, out: Path) -> None:
    with zipfile.ZipFile(src) as z:
        if _CUSTOM not in z.namelist() or z.getinfo(_CUSTOM).file_size > 1 << 20:
            return
        custom = z.read(_CUSTOM)
    staged = out.with_suffix(".props.xlsx")
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as zout:
        if _CUSTOM in zin.namelist():
            return
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                override = f'<Override PartName="/{_CUSTOM}" ContentType="{_CUSTOM_TYPE}"/>'
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            elif info.filename == "_rels/.rels":
                rel = (
                    f'<Relationship Id="rIdSheetnetCustom" Type="{_CUSTOM_REL}" '
                    f'Target="{_CUSTOM}"/>'
                )
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            zout.writestr(info, data)
        zout.writestr(_CUSTOM, custom)
    staged.replace(out)


APP = App(
    name="ironcalc",
    title="IronCalc",
    install="pip install ironcalc",
    binary=available,
    recalculate=recalculate,
    known_difference=known_difference,
)
