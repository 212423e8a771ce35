"""Recalculate a workbook from scratch with headless LibreOffice.

LibreOffice trusts the cached values of an .xlsx by default; a fresh profile
with OOXMLRecalcMode=0 makes it recalculate every formula on load. The copy it
saves holds LibreOffice's own results.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from ...engine.errors import DIV0, NUM, REF, VALUE, ExcelError
from .base import App, AppMissing, run_app

_PROFILE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
    ' xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
    "</oor:items>\n"
)

# Where LibreOffice's answer differs from Excel's (sheetnet follows Excel).
# Each entry: (Excel's value, LibreOffice's value, why). Used by every comparison.
KNOWN_DIFFERENCES: tuple[tuple[ExcelError, ExcelError, str], ...] = (
    (
        NUM,
        VALUE,
        "LibreOffice gives Err:502 (#VALUE!) where Excel gives #NUM!, e.g. SQRT(-1), LN(0), LOG(0)",
    ),
    (DIV0, VALUE, "LibreOffice gives #VALUE! for LOG(x,1), Excel #DIV/0!"),
    (REF, VALUE, "LibreOffice gives #VALUE! for INDEX out of range, Excel #REF!"),
    (DIV0, NUM, "LibreOffice gives #NUM! for 0^negative, Excel #DIV/0!"),
)
# Known, not tolerated (numbers where Excel has an error; avoided in tests):
# 0^0 is 1 in LibreOffice (#NUM! in Excel); (-8)^(1/3) is -2 (#NUM! in Excel);
# 1=TRUE is TRUE in LibreOffice (FALSE in Excel).

SNAP = 2.0**-44  # LibreOffice's rtl::math::approxSub threshold
APPROX_SUB = (
    "LibreOffice rounds a subtraction of nearly equal numbers (within 2^-44) to 0; "
    "Excel keeps the IEEE difference inside a formula"
)
UNDERFLOW = "LibreOffice gives #NUM! where a power or EXP underflows; Excel gives 0"
_REF = re.compile(r"(?<![!:A-Z$])\$?([A-Z]{1,3})\$?([0-9]+)(?![0-9(:])")


def known_difference(
    excel: object,
    libreoffice: object,
    formula: str | None = None,
    values: dict[str, object] | None = None,
) -> str | None:
    """Why LibreOffice's `libreoffice` may stand where Excel gives `excel`, or None.

    With the cell's `formula` and its sheet's `values`, a 0 from LibreOffice is
    accepted where the formula subtracts operands so large that the engine's
    result is within LibreOffice's snapping threshold of them.
    """
    for exp, got, why in KNOWN_DIFFERENCES:
        if excel is exp and libreoffice is got:
            return why
    if (
        excel == 0.0
        and libreoffice is NUM
        and formula
        and any(op in formula for op in ("^", "EXP(", "POWER("))
    ):
        return UNDERFLOW
    if (
        libreoffice == 0.0
        and isinstance(excel, float)
        and formula
        and "-" in formula
        and values is not None
    ):
        scale = max((abs(v) for v in (values.get(a + b) for a, b in _REF.findall(formula))
                     if isinstance(v, float)), default=0.0)  # fmt: skip
        if abs(excel) <= 100 * SNAP * scale:
            return APPROX_SUB
    return None


def soffice() -> str | None:
    """The LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def recalculate(
    src: str | os.PathLike[str], outdir: str | os.PathLike[str], timeout: float | None = None
) -> Path:
    """Load `src` in LibreOffice, recalculate every formula, save as .xlsx in `outdir`."""
    binary = soffice()
    if binary is None:
        raise AppMissing(f"LibreOffice is not installed ({APP.install})")
    src, outdir = Path(src).resolve(), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sheetnet-lo-") as profile:
        user = Path(profile, "user")
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_PROFILE)
        staged = Path(profile, "in", src.stem + ".xlsx")  # LibreOffice reads by extension
        staged.parent.mkdir()
        shutil.copyfile(src, staged)
        cmd = [
            binary,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(outdir),
            str(staged),
        ]
        out = outdir / staged.name
        run_app("LibreOffice", cmd, out, timeout, env={**os.environ, "HOME": profile})
    return out


APP = App(
    name="libreoffice",
    title="LibreOffice",
    install="apt-get install libreoffice-calc-nogui",
    binary=soffice,
    recalculate=recalculate,
    known_difference=known_difference,
)
